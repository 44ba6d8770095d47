"""Breath groups for OpenJTalk: where a Japanese sentence may pause, and the labels of each group.

An HTS voice synthesises an utterance in one call whose time grows with its length, so a long sentence
delays the first audio. OpenJTalk marks pauses (``pau``) at commas; Easy Japanese sentences are often long
and have none. ``add_pauses`` inserts a short pause after a particle that ends a phrase (は, が, を, に,
で, ...) once a breath group has ``min_morae`` morae, as a careful speaker does for residents.
``breath_groups`` then cuts the sentence's full-context labels at each pause: the labels carry the whole
sentence's context, so the groups played one after the other sound as the sentence does in one piece,
and the first group can play while the rest is synthesised.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

#: Particles after which a pause is natural: case, topic and listing particles (は, が, を, に, で, や) and
#: conjunctions (から, ので, けど, ば); not の (it binds two nouns), not the て/で of a verb (持って いる).
_PAUSE_AFTER = {"係助詞", "格助詞", "並立助詞", "接続助詞"}
_NO_PAUSE_AFTER = {"て", "で", "ながら"}

#: A pause needs this many morae after it in the sentence (no pause before a short ending).
_MIN_TAIL_MORAE = 4

#: A pause label's phoneme in OpenJTalk's full-context labels.
_PAU = "-pau+"


def _is_pause(feature: dict[str, Any]) -> bool:
    return feature["pos"] == "記号" and feature["pron"] in ("、", "。", "？", "！", "?", "!")


def _pause_like(feature: dict[str, Any]) -> dict[str, Any]:
    """A comma feature (OpenJTalk reads it as a short pause) taking the place after ``feature``."""
    pause = copy.deepcopy(feature)
    pause.update(
        string="、",
        pos="記号",
        pos_group1="読点",
        pos_group2="*",
        pos_group3="*",
        ctype="*",
        cform="*",
        orig="、",
        read="、",
        pron="、",
        acc=0,
        mora_size=0,
        chain_rule="*",
        chain_flag=0,
    )
    return pause


def _phrase_ends_after(features: Sequence[dict[str, Any]], index: int) -> bool:
    """True when ``features[index]`` is a pause-worthy particle and the next word starts a new phrase."""
    here = features[index]
    if here["pos"] != "助詞" or here["pos_group1"] not in _PAUSE_AFTER:
        return False
    if here["pos_group1"] == "接続助詞" and here["string"] in _NO_PAUSE_AFTER:
        return False
    following = features[index + 1] if index + 1 < len(features) else None
    if following is None or following["pos"] in ("助詞", "助動詞", "記号"):
        return False
    return int(following.get("chain_flag", 0)) != 1


def add_pauses(features: Sequence[dict[str, Any]], min_morae: int) -> list[dict[str, Any]]:
    """``features`` with a comma inserted after each phrase-ending particle once the breath group so far
    has at least ``min_morae`` morae and at least a few morae follow; 0 inserts none."""
    result = [dict(feature) for feature in features]
    if min_morae <= 0:
        return result
    tails, left = [], 0
    for feature in reversed(result):  # morae from each word to the next pause
        left = 0 if _is_pause(feature) else left + int(feature["mora_size"])
        tails.append(left)
    tails.reverse()
    out: list[dict[str, Any]] = []
    since = 0
    for index, feature in enumerate(result):
        out.append(feature)
        since = 0 if _is_pause(feature) else since + int(feature["mora_size"])
        after = tails[index + 1] if index + 1 < len(result) else 0
        if since >= min_morae and after >= _MIN_TAIL_MORAE and _phrase_ends_after(result, index):
            out.append(_pause_like(feature))
            since = 0
    return out


def breath_groups(labels: Sequence[str]) -> list[list[str]]:
    """``labels`` cut after each pause (the pause ends its group); one group when there is none."""
    groups: list[list[str]] = [[]]
    for position, label in enumerate(labels):
        groups[-1].append(label)
        if _PAU in label and position < len(labels) - 1:
            groups.append([])
    return [group for group in groups if group]
