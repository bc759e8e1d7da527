"""Answering questions: matching, the second opinion, the decision, and its quality tools.

Owns `matcher` (normalised terms, phrasings, scores), `classifier` (naive Bayes trained at
start-up), `service` (`AnswerService`: question in, answer / clarify / decline out),
`evaluation` (`bot eval`), `kbcheck` (`bot kb check`) and `review` (`bot review`).

May import the shared bottom only (`bot.domain`, `bot.text`, `bot.reply`, `bot.render`,
`bot.knowledge`, `bot.storage`), never the follow-ups, the core or a front door.
"""
