"""Following up connection requests: parsing, the policy, the tracker and the nudge sweep.

Owns `requests` (`/request` arguments, reading a reply in the guided flow), `policy`
(decisions, delays, quiet hours, time zones), `tracker` (`RequestTracker`: logging requests,
the guided steps, the lists, nudges and their buttons, the digest), `preferences` (the
follow-up settings), `drafts` (checking an invitation text), `sweeper` (`NudgeSweeper`: due
nudges read from SQLite, sent through a `Sender`, recorded), `linkedin_export` and
`importing` (LinkedIn's data export), `reports` and `progress_chart` (the import's summary
and the progress picture).

May import the shared bottom only (`bot.domain`, `bot.text`, `bot.reply`, `bot.render`,
`bot.knowledge`, `bot.storage`), never answering, the core or a front door.
"""
