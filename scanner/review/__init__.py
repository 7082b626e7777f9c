"""Officer review: decisions (append-only, status derived), audit trail, evidence bundles."""
