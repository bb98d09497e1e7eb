"""Policy: stages, cadence, contact windows, caps, holidays, variants, consolidation (SPEC §5)."""
