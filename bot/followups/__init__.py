"""Following up connection requests: parsing, the policy, the tracker and the nudge sweep.

Owns `requests` (`/request` arguments), `policy` (decisions, delays, quiet hours),
`tracker` (`RequestTracker`: logging requests, their buttons and the digest) and `sweeper`
(`NudgeSweeper`: due nudges read from SQLite, sent through a `Sender`, recorded).

May import the shared bottom only (`bot.domain`, `bot.text`, `bot.reply`, `bot.render`,
`bot.knowledge`, `bot.storage`), never answering, the core or a front door.
"""
