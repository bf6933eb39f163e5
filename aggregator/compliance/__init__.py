"""The compliance calendar: which disclosures are late, short or missing, by the rules that
govern them, counted in China's working days.

Pure parts, no store: `rules` (the rule set as data, the office's file over the shipped one),
`workdays` (China's calendar: weekends and holidays off, 调休 days on), `textdates` (the dates
a post's own text states, each found with its label) and `check` (a rule against posts).
`aggregator.services.compliance` runs them over the store.
"""
