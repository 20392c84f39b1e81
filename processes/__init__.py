"""Process definitions and the engine that runs them on stored cases.

`hygiene.py` (and its siblings) declare processes as data; `engine.py` fires their triggers;
`calendar.py` and `clocks.py` count the days.
"""
