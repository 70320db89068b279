"""Published numbers (study, trials) and the synthetic demo registry (synth)."""
