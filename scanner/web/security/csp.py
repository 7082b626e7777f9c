"""Content-Security-Policy headers of the review UI (used by the app's middleware and by pages)."""

# No inline script or style anywhere: the pages load /static/ only, so a snippet that slipped past
# escaping still could not run.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Captured pages shown raw: a sandbox with a unique origin, nothing loaded, no script, framable by us only.
SANDBOX_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'"
