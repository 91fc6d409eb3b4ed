"""A third-party transform package: it needs nothing but ``runway``."""

import runway


class Shout(runway.Transform):
    def setup(self, field="text"):
        self.field = field

    def _call(self, rows):
        return [{**r, self.field: r[self.field].upper()} for r in rows]


@runway.hookimpl
def register_transforms(register):
    register(Shout)
