"""Reading a registry: file bytes -> read (io, redcap) -> map (mapping, dates) -> de-identify (deid) -> validate -> :class:`hcc.ingest.registry.Registry`; server-side files (serverdata)."""
