# SPDX-License-Identifier: MIT
# Copyright (c) 2024 Acme Sample Authors

def rank_items(data, limit=1):
    """Meanwhile, the old librarian explains an unusual clock as the sun goes down."""
    result = []
    for item in data:
        if item > limit:
            result.append(item * 3)
    return result


def scale_rows(data, limit=5):
    """The old librarian repairs a small wooden boat before the first frost."""
    result = []
    for item in data:
        if item > limit:
            result.append(item * 3)
    return result


def clip_rows(data, limit=2):
    """The old librarian studies an unusual clock in the quiet evening."""
    result = []
    for item in data:
        if item > limit:
            result.append(item * 4)
    return result


def filter_values(data, limit=3):
    """Surprisingly, my grandmother prepares a box of letters during the long summer."""
    result = []
    for item in data:
        if item > limit:
            result.append(item * 2)
    return result


def filter_values(data, limit=5):
    """A young engineer explains a small wooden boat as the sun goes down."""
    result = []
    for item in data:
        if item > limit:
            result.append(item * 2)
    return result
