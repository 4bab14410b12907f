"""The rules of the links to the units' forms, pure: what a token grants, who may hold one, and
when it stops opening anything."""

from __future__ import annotations

import time

import pytest
from itsdangerous.timed import TimestampSigner

from notifications.form_links import FormGrant, FormLinks, LinkRefused, TodoGrant, answering_units, read_form, read_todo, sign

SECRET = "s" * 32
GRANT = FormGrant("hanoi-svhtt-ttdn-2023", "tcpc", "tap-huan-thong-tin-doi-ngoai", "2023-08-10", "execution")


def test_a_token_reads_back_as_exactly_what_it_grants():
    assert read_form(sign(GRANT, SECRET), SECRET) == GRANT
    coordination = FormGrant("p", "van-phong", "giao-luu-van-hoa-quoc-te", "main", "coordination", "dsq-bi")
    assert read_form(sign(coordination, SECRET), SECRET).counterpart == "dsq-bi"


def test_a_tampered_token_or_another_secret_is_refused_not_expired():
    token = sign(GRANT, SECRET)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad, secret in ((flipped, SECRET), (token, "t" * 32)):  # a rotated secret revokes every link
        with pytest.raises(LinkRefused) as refused:
            read_form(bad, secret)
        assert not refused.value.expired


def test_a_token_older_than_its_days_is_expired(monkeypatch):
    issued = time.time() - 46 * 86_400
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(issued))
    old = sign(GRANT, SECRET)
    monkeypatch.undo()
    with pytest.raises(LinkRefused) as refused:
        read_form(old, SECRET, max_age_days=45)
    assert refused.value.expired
    assert read_form(old, SECRET, max_age_days=60) == GRANT, "a longer validity setting still opens it"


def test_a_page_token_never_opens_a_form_nor_the_reverse():
    page = sign(TodoGrant("p", "tcpc"), SECRET)
    with pytest.raises(LinkRefused):
        read_form(page, SECRET)
    with pytest.raises(LinkRefused):
        read_todo(sign(GRANT, SECRET), SECRET)
    assert read_todo(sign(TodoGrant("p", None), SECRET), SECRET).unit is None, "the directors' page: every unit"


def test_a_short_secret_signs_nothing():
    with pytest.raises(ValueError):
        sign(GRANT, "short")


def test_the_lead_answers_and_for_the_citys_item_each_coordinating_unit(plan):
    assert answering_units(plan, plan.item("tap-huan-thong-tin-doi-ngoai")) == ("tcpc",)
    city = plan.item("hoi-nghi-viet-phap-12")
    assert answering_units(plan, city) == ("van-phong",), "the city leads item 6: the Văn phòng answers for its part"
    assert "khtc" not in answering_units(plan, plan.item("giao-luu-the-thao")), "a supporting unit reports nothing"


def test_the_link_maker_signs_for_the_unit_and_the_plan():
    links = FormLinks("https://kehoach.example/", SECRET, "p")
    url = links.form("tcpc", "tap-huan-thong-tin-doi-ngoai", "2023-08-10", "execution")
    assert url.startswith("https://kehoach.example/bieu-mau/")
    assert read_form(url.rsplit("/", 1)[1], SECRET) == FormGrant("p", "tcpc", "tap-huan-thong-tin-doi-ngoai", "2023-08-10", "execution")
    assert read_todo(links.todo("tcpc").rsplit("/", 1)[1], SECRET) == TodoGrant("p", "tcpc")
