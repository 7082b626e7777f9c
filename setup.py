"""The C extensions of detection and of markup preparation, built by ``pip install -e .`` (``make
venv``); they are required.

- ``scanner.detection._htmlwalk``: extraction's walk of the parsed HTML tree, reading libxml2's
  nodes through lxml's public C API (its headers come with the lxml wheel: ``lxml.get_include()``;
  nothing is linked, only libxml2's structs are read);
- ``scanner.detection._jsonwalk``: JSON's parts (API responses, JSON scripts) read from the JSON text in
  place, or walked from a parsed value;
- ``scanner.detection._automaton``: the Aho-Corasick automaton of the lexicons' literals (a DFA for
  its shallow states, an NFA for the deep ones), which groups the occurrences by literal as it walks;
- ``scanner.detection._spans``: the per-occurrence loops of the signal passes (a regex's tries at a
  literal's occurrences, the pair pattern, snippets);
- ``scanner.detection._parts``: an extracted document's parts kept once, and the part of an offset;
- ``scanner.detection._collect``: the vocabulary pass's walk of its candidates (C arrays, no dict of
  Python ints) and the first span of each spelling;
- ``scanner._crowded``: the scans for start tags with too many attributes and for ``</html`` end tags
  (`scanner.markup`), made of every fetched page.

Everything else about the package is in pyproject.toml.
"""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command import bdist_egg

DETECTION = "scanner/detection"

extensions = [
    Extension("scanner.detection._htmlwalk", [f"{DETECTION}/_htmlwalk.pyx"], include_dirs=lxml.get_include()),
    Extension("scanner.detection._jsonwalk", [f"{DETECTION}/_jsonwalk.pyx"]),
    Extension("scanner.detection._automaton", [f"{DETECTION}/_automaton.pyx"]),
    Extension("scanner.detection._spans", [f"{DETECTION}/_spans.pyx"]),
    Extension("scanner.detection._parts", [f"{DETECTION}/_parts.pyx"]),
    Extension("scanner.detection._collect", [f"{DETECTION}/_collect.pyx"]),
    Extension("scanner._crowded", ["scanner/_crowded.pyx"]),
]

# scrapyd runs the spiders from an egg (`scrapyd-deploy`, deploy/README.md), where an extension is
# loaded by a stub module that extracts it. setuptools' stub loads it into a module object of its
# own and leaves the stub empty ("cannot import name 'walk'"): this one puts the extension in the
# stub's place in sys.modules, which is what the import returns.
_EGG_STUB = """def __bootstrap__():
    global __bootstrap__, __file__
    import importlib.util, sys, pkg_resources
    __file__ = pkg_resources.resource_filename(__name__, %r)
    del __bootstrap__
    spec = importlib.util.spec_from_file_location(__name__, __file__)
    module = importlib.util.module_from_spec(spec)
    sys.modules[__name__] = module
    spec.loader.exec_module(module)
__bootstrap__()
"""


def _write_egg_stub(resource: str, pyfile: str) -> None:
    with open(pyfile, "w") as f:
        f.write(_EGG_STUB % resource)


bdist_egg.write_stub = _write_egg_stub

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
