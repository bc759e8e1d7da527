"""The Telegram front door: handlers, durable polling and webhook, sending.

Owns `app` (python-telegram-bot application, thin handlers, sending), `polling` and
`webhook` (the durable inbox and chat queues), `outbox` (replies held until an update's
changes are saved), `transport` (HTTP to the Bot API over aiohttp) and `throttle`.

May import the core (`bot.coach`, `bot.config`), the subsystems and the shared bottom;
nothing imports this package except `bot.__main__`.
"""
