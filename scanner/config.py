"""Configuration: YAML files in the config dir, validated by pydantic at load.

A bad file never produces a traceback: `ConfigError` carries one line naming the file, the key path
and the problem (``config/targets.yaml: sites[3].seeds[0]: not a valid URL``); the CLI prints it and
exits 2.

Files in ``SCANNER_CONFIG_DIR`` (default ``./config``):
  settings.yaml   data dir, database URL, HTTP politeness, review, feeds, scheduler
  targets.yaml    sites to crawl, discovery, API poller instances
  schedules.yaml  a cron expression per schedule group
  licensed.yaml   the licensed register
  lexicons/*.yaml detection vocabulary, weights and thresholds (see scanner.detection.lexicon)

A file missing from a config dir is read from the dir named by its ``inherit`` setting (the demo
config inherits the lexicons from the real-world defaults rather than copying them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast

import idna
import yaml
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyAddress,
    IPvAnyNetwork,
    ValidationError,
    field_validator,
    model_validator,
)

from scanner.net.vantage import (
    DIRECT_VANTAGE,
    Vantage,
    VantageUnavailable,
    proxy_url_problem,
    resolve_vantage,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = Path("config")


class ConfigError(Exception):
    """A configuration problem a human can fix; str() is the whole message."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def idna_host(host: str) -> str:
    """``host`` lower-cased in its ASCII (IDNA, punycode) form, a leading ``*.`` kept.

    URLs reach Scrapy, the offsite filter and register matching in this form (pydantic encodes seed
    URLs so), so a bare domain written in Unicode in the config must be encoded the same way or it
    never matches.
    """
    host = host.strip().lower().rstrip(".")
    wildcard, bare = ("*.", host[2:]) if host.startswith("*.") else ("", host)
    if bare.isascii():
        return host
    try:
        return wildcard + idna.encode(bare, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"{host!r} is not a valid internationalised domain name ({exc})") from None


# ---------------------------------------------------------------- settings.yaml


# The most http.max_response_bytes may be: no body pkscan records (or decodes) is larger.
MAX_RESPONSE_BYTES = 512 * 1024 * 1024


class HttpSettings(StrictModel):
    user_agent: str = "pkscan/0.1 (+https://pvara.gov.pk/scanner; enforcement research)"
    concurrency: int = Field(16, ge=1, le=512)
    per_domain_concurrency: int = Field(4, ge=1, le=64)
    timeout_seconds: float = Field(20, gt=0, le=600)
    # Capture rows store sizes and WARC offsets as 32-bit integers (PostgreSQL's INTEGER): with
    # these bounds no body, record or offset into a WARC file passes 2**31 (SQLite took any size).
    max_response_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=MAX_RESPONSE_BYTES)
    retries: int = Field(2, ge=0, le=10)
    max_redirects: int = Field(10, ge=0, le=50)
    obey_robots: bool = True
    autothrottle: bool = True
    download_delay_seconds: float = Field(0.0, ge=0)


class EgressSettings(StrictModel):
    """Deliberate exceptions to the egress policy (scanner.net.egress); everything else is refused."""

    # Internal addresses that may be fetched anyway (a lab network): CIDRs such as 10.20.0.0/16.
    allow_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    # Where an HTTP proxy named by HTTP_PROXY/HTTPS_PROXY may be when it is internal (the demo's
    # simulated web listens on 127.0.0.1).
    proxy_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    # Fixed answers for names, looked up before DNS (a pinned lab host; the hostile-web tests).
    static_hosts: dict[str, list[IPvAnyAddress]] = Field(default_factory=dict)
    # API pollers follow a redirect to another host only when this is true; crawls always may.
    api_cross_host_redirects: bool = False

    @field_validator("static_hosts")
    @classmethod
    def _lower_names(cls, hosts: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {name.strip().lower().rstrip("."): addresses for name, addresses in hosts.items()}


class ReviewSettings(StrictModel):
    two_person_rule: bool = True
    session_hours: float = Field(8, gt=0)
    login_attempts_per_minute: int = Field(5, ge=1)  # failed logins per username and address
    login_attempts_per_address_per_minute: int = Field(
        20, ge=1
    )  # failed logins from one address, any username
    # Chromium that prints referral packets to PDF; empty: the first chromium on PATH, else no PDF.
    referral_browser: str = ""
    dispute_answer_days: float = Field(5, gt=0)  # target time to answer a bank's or an operator's dispute
    disputes_per_address_per_hour: int = Field(5, ge=1)  # the public dispute form, per client address


class FeedSettings(StrictModel):
    publisher_name: str = Field("PVARA pkscan blocklist", min_length=1, max_length=200)
    requests_per_minute: int = Field(120, ge=1)
    failed_key_attempts_per_minute: int = Field(10, ge=1)  # wrong API keys per address, then 429
    rpz_zone: str = "rpz.pkscan.local"

    # Both are written into the feeds' comment and header lines (hosts.txt "# <publisher>", the RPZ
    # zone's "; <publisher>", $ORIGIN and SOA): a line break in either started a line of the file's
    # own, e.g. "0.0.0.0 bank.example" in every bank's hosts file or a record in their DNS firewall.
    @field_validator("publisher_name")
    @classmethod
    def _one_printable_line(cls, name: str) -> str:
        if not name.isprintable():
            raise ValueError(f"{name!r}: one line of printable characters (no control or format character)")
        return name

    @field_validator("rpz_zone")
    @classmethod
    def _zone_name(cls, zone: str) -> str:
        from scanner.names import InvalidName, dns_name

        try:
            return dns_name(zone)
        except InvalidName as exc:
            raise ValueError(f"not a DNS zone name: {exc}") from None


class WebSettings(StrictModel):
    # Host header values `scanner serve` answers (Starlette TrustedHostMiddleware; `*.example.pk`
    # wildcards): anything else gets 400, so no page or redirect can carry a forged host.
    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1"], min_length=1)
    # Base of absolute URLs we hand out (TAXII api_roots); unset: relative URLs. Never the Host header.
    public_url: AnyHttpUrl | None = None

    @field_validator("allowed_hosts")
    @classmethod
    def _bare_hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if not host or any(c in host for c in ":/ ") or "*" in host.lstrip("*."):
                raise ValueError(f"{host!r}: give a host name or *.domain, without scheme or port")
        return hosts


class CrawlSettings(StrictModel):
    # The next run of a job whose last runs ended unfinished answers the URLs they captured from their
    # WARC records (scanner.crawl.capture), but only captures at most this old: a job whose runs keep
    # ending degraded must still see a site change.
    replay_max_hours: float = Field(24.0, gt=0, le=24 * 30)


class SchedulerSettings(StrictModel):
    coalesce: bool = True
    max_instances: Literal[1] = 1
    misfire_grace_time_seconds: int = Field(300, ge=1)
    run_timeout_seconds: int = Field(3600, ge=10)
    reverify_cron: str = "0 3 * * *"


class P2PSettings(StrictModel):
    # USDT/PKR quotes outside this band are kept but marked suspicious (pakistan-facts.md §3).
    price_band_pkr: tuple[float, float] = (270.0, 310.0)
    max_pages: int = Field(20, ge=1)
    requests_per_second: float = Field(5.0, gt=0)

    @field_validator("price_band_pkr")
    @classmethod
    def _ordered(cls, band: tuple[float, float]) -> tuple[float, float]:
        if band[0] >= band[1]:
            raise ValueError("lower bound must be below upper bound")
        return band


RenderMode = Literal["auto", "always", "never"]


class RenderSettings(StrictModel):
    """Headless Chromium rendering of JavaScript pages (`scanner.render`); budgets are per page."""

    # auto: render pages that look like a JavaScript shell; always / never: every HTML page / none.
    # A target's own ``render`` overrides this.
    mode: RenderMode = "auto"
    chromium: str = "/usr/bin/chromium"  # Debian's package; Playwright's own browsers are never used
    timeout_seconds: float = Field(20, gt=0, le=300)  # whole render: load, settle, DOM and screenshot
    settle_seconds: float = Field(3, ge=0, le=60)  # wait for the network to go quiet, at most
    max_subrequests: int = Field(100, ge=0, le=5000)  # scripts, styles, XHR ... fetched for one page
    max_total_bytes: int = Field(20 * 1024 * 1024, ge=1024)  # of those sub-responses together
    max_dom_bytes: int = Field(5 * 1024 * 1024, ge=1024)  # the rendered HTML kept and analysed
    viewport_width: int = Field(1280, ge=320, le=4096)
    viewport_height: int = Field(800, ge=240, le=4096)
    max_screenshot_height: int = Field(8000, ge=240, le=32000)  # a longer page is cut there
    concurrency: int = Field(2, ge=1, le=16)  # pages rendered at once per crawl process
    # A JavaScript shell: at most this many characters of visible text (with scripts and a root div).
    shell_max_text: int = Field(200, ge=0)

    @model_validator(mode="after")
    def _settle_within_budget(self) -> RenderSettings:
        if self.settle_seconds >= self.timeout_seconds:
            raise ValueError("settle_seconds must be below timeout_seconds")
        return self


class Settings(StrictModel):
    inherit: str | None = None
    data_dir: str | None = None
    database_url: str | None = None
    warc_max_bytes: int = Field(100 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)  # see max_response_bytes
    http: HttpSettings = HttpSettings()
    crawl: CrawlSettings = CrawlSettings()
    egress: EgressSettings = EgressSettings()
    review: ReviewSettings = ReviewSettings()
    feed: FeedSettings = FeedSettings()
    web: WebSettings = WebSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    p2p: P2PSettings = P2PSettings()
    render: RenderSettings = RenderSettings()


# ---------------------------------------------------------------- targets.yaml

Url = Annotated[AnyHttpUrl, Field()]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


class VantagePoint(StrictModel):
    """An egress proxy standing for a country (e.g. a Pakistani exit): what is fetched through it is
    what visitors there see. Sites, pollers, sources and discovery name it with ``vantage:``."""

    # http://[user:password@]host:port, or the environment variable holding that URL (keeps the
    # credentials out of this file). The proxy's address still passes the egress policy.
    proxy: str | None = None
    proxy_env: str | None = None
    country: str  # ISO 3166 two-letter code of the exit, e.g. PK
    description: str = ""

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, url: str | None) -> str | None:
        if url is not None and (problem := proxy_url_problem(url)):
            raise ValueError(problem)
        return url.strip() if url else url

    @field_validator("proxy_env")
    @classmethod
    def _env_name(cls, name: str | None) -> str | None:
        import re

        if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"{name!r} is not an environment variable name")
        return name

    @field_validator("country")
    @classmethod
    def _iso_country(cls, code: str) -> str:
        code = code.strip().upper()
        if len(code) != 2 or not code.isalpha() or not code.isascii():
            raise ValueError(f"{code!r}: give a two-letter ISO 3166 country code such as PK")
        return code

    @model_validator(mode="after")
    def _one_proxy(self) -> VantagePoint:
        if (self.proxy is None) == (self.proxy_env is None):
            raise ValueError("give either proxy (the URL) or proxy_env (the environment variable holding it)")
        return self


def _no_bare_proxy(cls: Any, data: Any) -> Any:
    """``proxy:`` on a site, poller or source: say how it is written instead of "unknown key"."""
    if isinstance(data, dict) and "proxy" in data:
        raise ValueError(
            "proxy: name a vantage point instead (vantage: NAME), and define its proxy under "
            "vantage_points: {NAME: {proxy: http://host:port, country: PK}}"
        )
    return data


class SiteTarget(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    seeds: list[Url] = Field(min_length=1)
    allowed_domains: list[str] = Field(default_factory=list)
    max_depth: int = Field(3, ge=0, le=20)
    max_pages: int = Field(200, ge=1)
    schedule: str = "daily"
    obey_robots: bool | None = None
    render: RenderMode | None = None  # None: settings.yaml render.mode
    # Vantage point(s) the site is fetched from (vantage_points names, or "direct"); several: the
    # site is crawled once from each, so its finding shows what each of them saw. None: default_vantage.
    vantage: str | list[str] | None = None
    enabled: bool = True

    _proxy_key = model_validator(mode="before")(_no_bare_proxy)

    @property
    def vantages(self) -> list[str | None]:
        """The vantage names to crawl from, in order (None: the default vantage)."""
        if self.vantage is None:
            return [None]
        return list(dict.fromkeys([self.vantage] if isinstance(self.vantage, str) else self.vantage)) or [
            None
        ]

    @field_validator("allowed_domains")
    @classmethod
    def _ascii_domains(cls, domains: list[str]) -> list[str]:
        return [idna_host(domain) for domain in domains]

    @model_validator(mode="after")
    def _default_domains(self) -> SiteTarget:
        if not self.allowed_domains:
            hosts = sorted({str(s.host) for s in self.seeds})
            object.__setattr__(self, "allowed_domains", hosts)
        return self


class DiscoveryTarget(StrictModel):
    seeds: list[Url] = Field(default_factory=list)
    max_new_domains: int = Field(50, ge=0)
    pages_per_domain: int = Field(5, ge=1)
    max_pages: int = Field(500, ge=1)
    schedule: str = "daily"
    enabled: bool = True
    # Uncrawled candidates of discovery sources (scanner.discovery) a run crawls, best first.
    frontier: int = Field(50, ge=0)
    vantage: str | None = None  # vantage point of the discovery crawl (None: default_vantage)

    _proxy_key = model_validator(mode="before")(_no_bare_proxy)


def _known(name: str, registry: Mapping[str, str], what: str) -> str:
    """A configured adapter name must name one (checked at load, not when its job first runs)."""
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r} (known: {', '.join(sorted(registry))})")
    return name


class SourceTarget(StrictModel):
    """A discovery source (scanner.discovery): one adapter over one public service."""

    name: str = Field(pattern=NAME_PATTERN)
    adapter: str
    base_url: Url
    # What to ask for: search terms (iTunes), channels (Telegram), list URLs' paths; crt.sh and the
    # app-store terms default to config/discovery_words.yaml.
    queries: list[str] = Field(default_factory=list)
    fiats: list[str] = Field(default_factory=lambda: ["PKR"])
    country: str = "pk"
    max_requests: int = Field(50, ge=1)  # budget per run; past it the run stops and says so
    schedule: str = "daily"
    vantage: str | None = None  # vantage point the source is read from (None: default_vantage)
    enabled: bool = True

    _proxy_key = model_validator(mode="before")(_no_bare_proxy)

    @field_validator("fiats")
    @classmethod
    def _upper_fiats(cls, codes: list[str]) -> list[str]:
        return [c.upper() for c in codes]

    @field_validator("adapter")
    @classmethod
    def _known_source_adapter(cls, name: str) -> str:
        from scanner.discovery import ADAPTERS  # names only: no adapter module is imported here

        return _known(name, ADAPTERS, "source adapter")


class PollerTarget(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    adapter: str
    base_url: Url
    platform: str = Field(description="registrable domain of the platform the API belongs to")
    fiats: list[str] = Field(default_factory=lambda: ["PKR"])
    assets: list[str] = Field(default_factory=lambda: ["USDT"])
    schedule: str = "hourly"
    vantage: str | None = None  # vantage point the API is polled from (None: default_vantage)
    enabled: bool = True

    _proxy_key = model_validator(mode="before")(_no_bare_proxy)

    @field_validator("adapter")
    @classmethod
    def _known_poller_adapter(cls, name: str) -> str:
        from scanner.pollers import ADAPTERS  # names only: no adapter module is imported here

        return _known(name, ADAPTERS, "adapter")

    @field_validator("platform")
    @classmethod
    def _ascii_platform(cls, platform: str) -> str:
        from scanner.names import platform_key

        host, slash, rest = platform.partition("/")  # a hosted platform: t.me/channel
        return platform_key(idna_host(host) + slash + rest)  # InvalidName is a ValueError: file and key named

    @field_validator("fiats", "assets")
    @classmethod
    def _upper(cls, codes: list[str]) -> list[str]:
        return [c.upper() for c in codes]


class Targets(StrictModel):
    # Named egress proxies (scanner.net.vantage); "direct" is built in and means none of them.
    vantage_points: dict[str, VantagePoint] = Field(default_factory=dict)
    default_vantage: str = DIRECT_VANTAGE
    sites: list[SiteTarget] = Field(default_factory=list)
    discovery: DiscoveryTarget = DiscoveryTarget()
    pollers: list[PollerTarget] = Field(default_factory=list)
    sources: list[SourceTarget] = Field(default_factory=list)

    @field_validator("vantage_points")
    @classmethod
    def _vantage_names(cls, points: dict[str, VantagePoint]) -> dict[str, VantagePoint]:
        import re

        for name in points:
            if name == DIRECT_VANTAGE:
                raise ValueError(f"{name!r} is reserved: it means no vantage proxy (leave it out)")
            if not re.fullmatch(NAME_PATTERN, name):
                raise ValueError(
                    f"{name!r}: a vantage point name is lower-case letters, digits, '.', '_' and '-'"
                )
        return points

    @model_validator(mode="after")
    def _known_vantages(self) -> Targets:
        known = [DIRECT_VANTAGE, *self.vantage_points]
        used: list[tuple[str, str | None]] = [("default_vantage", self.default_vantage)]
        for i, site in enumerate(self.sites):
            used += [(f"sites[{i}].vantage", name) for name in site.vantages]
        used += [(f"pollers[{i}].vantage", p.vantage) for i, p in enumerate(self.pollers)]
        used += [(f"sources[{i}].vantage", s.vantage) for i, s in enumerate(self.sources)]
        used.append(("discovery.vantage", self.discovery.vantage))
        for key, name in used:
            if name is not None and name not in known:
                raise ValueError(
                    f"{key}: unknown vantage point {name!r} (known: {', '.join(known)}; "
                    "define it under vantage_points)"
                )
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Targets:
        for kind, items in (("sites", self.sites), ("pollers", self.pollers), ("sources", self.sources)):
            seen: set[str] = set()
            for item in items:
                if item.name in seen:
                    raise ValueError(f"{kind}: duplicate name {item.name!r}")
                seen.add(item.name)
        return self

    def site(self, name: str) -> SiteTarget:
        for site in self.sites:
            if site.name == name:
                return site
        raise KeyError(name)

    def poller(self, name: str) -> PollerTarget:
        for poller in self.pollers:
            if poller.name == name or poller.adapter == name:
                return poller
        raise KeyError(name)

    def source(self, name: str) -> SourceTarget:
        for source in self.sources:
            if source.name == name or source.adapter == name:
                return source
        raise KeyError(name)


# ---------------------------------------------------------------- schedules.yaml


def _check_cron(expression: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression)
    except ValueError as exc:
        raise ValueError(f"not a valid cron expression ({exc})") from None
    return expression


class Schedules(StrictModel):
    groups: dict[str, str] = Field(default_factory=dict)

    @field_validator("groups")
    @classmethod
    def _valid_crons(cls, groups: dict[str, str]) -> dict[str, str]:
        for expression in groups.values():
            _check_cron(expression)
        return groups


# ---------------------------------------------------------------- licensed.yaml


class RegisteredPlatform(StrictModel):
    name: str
    domains: list[str] = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    status: Literal["licensed", "noc", "suspended", "revoked"]
    reference: str = ""
    since: date | None = None

    @field_validator("domains")
    @classmethod
    def _bare_domains(cls, domains: list[str]) -> list[str]:
        cleaned = []
        for domain in domains:
            domain = domain.strip().lower().rstrip(".")
            if "/" in domain or " " in domain or "." not in domain:
                raise ValueError(f"{domain!r} is not a bare domain name (no scheme, no path)")
            cleaned.append(idna_host(domain))
        return cleaned


class Register(StrictModel):
    platforms: list[RegisteredPlatform] = Field(default_factory=list)

    @field_validator("platforms")
    @classmethod
    def _one_platform_per_domain(cls, platforms: list[RegisteredPlatform]) -> list[RegisteredPlatform]:
        # Matching takes the first entry listing a domain: two entries would make the verdict depend on order.
        owner: dict[str, int] = {}
        for index, entry in enumerate(platforms):
            for domain in entry.domains:
                bare = domain.removeprefix("*.")
                first = owner.setdefault(bare, index)
                if first != index:
                    raise ValueError(
                        f"domain {bare!r} is listed under two platforms: {platforms[first].name!r} "
                        f"(platforms[{first}]) and {entry.name!r} (platforms[{index}])"
                    )
        return platforms


# ---------------------------------------------------------------- discovery_words.yaml


class DiscoveryWords(StrictModel):
    """Words discovery sources look for in names (crt.sh) and ask for (app-store searches)."""

    crypto: list[str] = Field(default_factory=list)
    pakistan: list[str] = Field(default_factory=list)
    app_terms: list[str] = Field(default_factory=list)

    @field_validator("crypto", "pakistan")
    @classmethod
    def _lower_words(cls, words: list[str]) -> list[str]:
        return [w.strip().lower() for w in words if w.strip()]


# ---------------------------------------------------------------- loading

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _format_location(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(top level)"


_FRIENDLY = {
    "url_parsing": "not a valid URL",
    "url_scheme": "not a valid URL (http or https only)",
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_model(model: type[M], data: Any, source: Path) -> M:
    """Validate ``data`` against ``model``; on failure raise ConfigError naming file and key."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        err = exc.errors()[0]
        # Union branches add the branch name to loc; drop pydantic-internal tags.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "url["))))
        message = _FRIENDLY.get(err["type"], err["msg"])
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        extra = len(exc.errors()) - 1
        more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
        # A whole-file check (names across lists) says its key path in the message itself.
        where = f"{_format_location(loc)}: " if loc else ""
        raise ConfigError(f"{_display_path(source)}: {where}{message}{more}") from None


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{_display_path(path)}: file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{_display_path(path)}: not UTF-8 text ({exc.reason})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{_display_path(path)}: {where}invalid YAML ({problem})") from None


class Config:
    """The whole configuration, loaded lazily file by file, each validated once."""

    def __init__(self, config_dir: Path | str | None = None, env: dict[str, str] | None = None):
        env = dict(os.environ if env is None else env)
        self.env = env
        self.dir = Path(config_dir or env.get("SCANNER_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
        if not self.dir.is_dir():
            raise ConfigError(f"{_display_path(self.dir)}: config directory not found (SCANNER_CONFIG_DIR)")
        self._built: dict[str, Any] = {}

    def built(self, what: str, build: Callable[[], T]) -> T:
        """What other layers build from this configuration (its store's engine, its compiled detection
        rules), built on first use and kept as long as this Config: no process-wide registry."""
        if what not in self._built:
            self._built[what] = build()
        return cast(T, self._built[what])

    # -- file resolution

    @cached_property
    def search_path(self) -> list[Path]:
        dirs = [self.dir]
        settings_file = self.dir / "settings.yaml"
        if settings_file.exists():
            data = read_yaml(settings_file) or {}
            inherit = data.get("inherit") if isinstance(data, dict) else None
            if inherit:
                parent = (self.dir / inherit).resolve()
                if not parent.is_dir():
                    raise ConfigError(
                        f"{_display_path(settings_file)}: inherit: directory {inherit!r} not found"
                    )
                dirs.append(parent)
        return dirs

    def find(self, relative: str) -> Path:
        for directory in self.search_path:
            candidate = directory / relative
            if candidate.exists():
                return candidate
        return self.dir / relative

    def load(self, model: type[M], relative: str, required: bool = False) -> M:
        path = self.find(relative)
        if not path.exists():
            if required:
                raise ConfigError(f"{_display_path(path)}: file not found")
            return model()
        return parse_model(model, read_yaml(path), path)

    # -- the files

    @cached_property
    def settings(self) -> Settings:
        return self.load(Settings, "settings.yaml")

    @cached_property
    def targets(self) -> Targets:
        return self.load(Targets, "targets.yaml")

    @cached_property
    def schedules(self) -> Schedules:
        schedules = self.load(Schedules, "schedules.yaml")
        known = set(schedules.groups)
        groups_used = [(f"sites[{i}].schedule", s.schedule) for i, s in enumerate(self.targets.sites)]
        groups_used += [(f"pollers[{i}].schedule", p.schedule) for i, p in enumerate(self.targets.pollers)]
        groups_used += [(f"sources[{i}].schedule", s.schedule) for i, s in enumerate(self.targets.sources)]
        for key, group in groups_used:
            if group not in known:
                raise ConfigError(
                    f"{_display_path(self.find('targets.yaml'))}: {key}: schedule group {group!r} "
                    f"is not defined in schedules.yaml (known: {', '.join(sorted(known)) or 'none'})"
                )
        return schedules

    def register_from(self, path: Path | None = None) -> Register:
        if path is None:
            return self.load(Register, "licensed.yaml")
        return parse_model(Register, read_yaml(Path(path)), Path(path))

    @cached_property
    def register(self) -> Register:
        return self.register_from()

    @cached_property
    def discovery_words(self) -> DiscoveryWords:
        return self.load(DiscoveryWords, "discovery_words.yaml")

    @cached_property
    def lexicon_dir(self) -> Path:
        return self.find("lexicons")

    # -- environment overrides

    @cached_property
    def data_dir(self) -> Path:
        raw = self.env.get("SCANNER_DATA_DIR") or self.settings.data_dir or "data"
        return Path(raw)

    @cached_property
    def database_url(self) -> str:
        url = self.env.get("SCANNER_DATABASE_URL") or self.settings.database_url
        if url:
            return url
        return f"sqlite:///{(self.data_dir / 'pkscan.sqlite3').resolve()}"

    def vantage(self, name: str | None = None) -> Vantage:
        """The vantage point ``name`` (None: targets.yaml ``default_vantage``), its proxy URL read
        (from the environment for ``proxy_env``); raises ConfigError naming the file and the problem."""
        targets = self.targets
        try:
            return resolve_vantage(name or targets.default_vantage, targets.vantage_points, self.env)
        except VantageUnavailable as exc:
            raise ConfigError(f"{_display_path(self.find('targets.yaml'))}: {exc}") from None

    def vantage_proxies(self) -> list[str]:
        """Proxy URLs of every vantage point that can be resolved now (their hosts resolve as proxies)."""
        urls = []
        for name in self.targets.vantage_points:
            try:
                proxy = resolve_vantage(name, self.targets.vantage_points, self.env).proxy
            except VantageUnavailable:
                continue
            if proxy:
                urls.append(proxy)
        return urls

    @property
    def redis_url(self) -> str | None:
        return self.env.get("REDIS_URL") or None

    def validate_all(self) -> None:
        """Load every file now, so that a bad config fails at start, not mid-run."""
        _ = self.settings, self.targets, self.schedules, self.register
