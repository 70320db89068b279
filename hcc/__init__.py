"""HCC Outcomes Explorer: the domain package (pure Python, never imports streamlit).

Data flows one way: file bytes -> :mod:`hcc.io` -> :mod:`hcc.validate` -> :class:`hcc.registry.Registry`
-> :mod:`hcc.cohort` -> :mod:`hcc.endpoints` -> :mod:`hcc.survival` -> :mod:`hcc.figures` / pages / CLI.
"""

__version__ = "0.1.0"
