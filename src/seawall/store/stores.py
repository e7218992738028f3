"""The stores of one gateway, opened once by the assembly and shared by every feature: the
state store (memory or Redis, each call bounded by a timeout and a breaker), the SQL engine
(SQLite or PostgreSQL) and the SQL breaker. Features take them; none opens its own."""
from __future__ import annotations

from .breaker import Breaker
from .sql import make_engine, migrate
from .state import GuardedState, open_state


class Stores:
    def __init__(self, config) -> None:
        s = config.store
        self.config = s
        self.state = GuardedState(open_state(s.state, s.prefix, s.state_timeout_s), s.state_timeout_s,
                                  s.breaker_failures, s.breaker_reset_s)
        self.sql = make_engine(s.sql, timeout_s=s.sql_timeout_s)
        self.sql_breaker = Breaker("sql", s.breaker_failures, s.breaker_reset_s)
        self._migrated = False

    async def start(self) -> None:
        """Bring the SQL schema up to date (unless `store.migrate` is off: `seawall db upgrade`)."""
        if self.config.migrate and not self._migrated:
            await migrate(self.sql)
            self._migrated = True

    async def aclose(self) -> None:
        await self.state.store.aclose()
        await self.sql.dispose()
