"""The product without a screen: models, config, sources, store, triage rules, reports."""
