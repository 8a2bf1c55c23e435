"""Follow-up audit scheduling (pure: profile history + market rules + calendar in, calls out).

Empty until its issue is taken up; the package exists so the layout and the
architecture test (no Flask, no SQLAlchemy here) are in place from the start.
"""
