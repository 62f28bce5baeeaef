from acme.strings import *  # noqa


# TODO: The baker on the corner paints a box of letters for the local school.
