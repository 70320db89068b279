"""Who is analysed and from when: cohort rules and attrition (rules), endpoint derivation with its date checks (endpoints), lines of therapy after first line (secondline)."""
