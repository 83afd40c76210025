"""Tags as typed ('vip, #Billing'), ticket references in text ('JIRA-123', '#1234'), their URLs,
and per-chat response targets ('2/5/15')."""

from __future__ import annotations

import pytest
from tgtriage.core.desk.models import Chat
from tgtriage.core.rules.tags import complete_last, format_tags, normalize_tag, parse_tags
from tgtriage.core.rules.targets import config_targets, format_targets, parse_targets
from tgtriage.core.rules.tickets import find_tickets, latest_ticket, parse_ticket, ticket_url
from tgtriage.core.system.config import Config, Tickets


@pytest.mark.parametrize(
    ("typed", "tags"),
    [
        ("vip", ["vip"]),
        ("vip, #Billing  urgent", ["billing", "urgent", "vip"]),
        ("VIP,vip #vip", ["vip"]),
        ("", []),
        (" , # ,, ", []),
        ("[red]x[/] \x1b[31mbad\x1b[0m", ["bad", "redx/"]),
        ("eu/west sla:gold", ["eu/west", "sla:gold"]),
        ("a" * 50, ["a" * 32]),
    ],
)
def test_tags_are_parsed_normalised_and_safe(typed: str, tags: list[str]) -> None:
    assert parse_tags(typed) == tags


def test_normalize_and_format() -> None:
    assert normalize_tag("  #Ünïcode ") == "ünïcode"
    assert normalize_tag("\x07") is None
    assert format_tags({"vip", "billing"}) == "billing, vip"


def test_the_last_tag_is_completed_from_existing_ones() -> None:
    known = {"billing", "bill-me", "vip", "vip-gold"}
    assert complete_last("vi", known) == "vip"
    assert complete_last("billing, v", known) == "billing, vip"
    assert complete_last("#bi", known) == "#bill-me", "shortest first, keeps the '#'"
    assert complete_last("vip, vip", known) == "vip, vip-gold", "not one already typed"
    assert complete_last("vip", known) == "vip-gold", "a longer tag than the one typed"
    assert complete_last("billing, ", known) is None, "nothing typed yet"
    assert complete_last("zzz", known) is None


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("see JIRA-123 please", ["JIRA-123"]),
        ("I opened ticket #48213 as well", ["#48213"]),
        ("OPS-7, then #12 and JIRA-123.", ["OPS-7", "#12", "JIRA-123"]),
        ("JIRA-123 again JIRA-123", ["JIRA-123"]),
        ("UTF-8 and ISO-8601 and SHA-256 are not tickets", []),
        ("CVE-2024-1234 is a CVE, not a ticket", []),
        ("colour #12ab, entity &#1234;, number #1, path a/B-12", []),
        ("lower-case abc-123 and mixed Abc-12 are not keys", []),
        ("x-JIRA-5 and JIRA-5x and JIRA-05", []),
    ],
)
def test_ticket_references_are_found_in_text(text: str, refs: list[str]) -> None:
    assert [r.text for r in find_tickets(text)] == refs


def test_projects_restrict_and_ignore_extends() -> None:
    config = Tickets(projects=["OPS"])
    assert [r.text for r in find_tickets("JIRA-1 OPS-2 #33", config)] == ["OPS-2", "#33"]


def test_latest_mentioned_first() -> None:
    refs = latest_ticket(["about JIRA-1", "and #4821", "back to JIRA-1"])
    assert [r.text for r in refs] == ["JIRA-1", "#4821"]


def test_a_typed_ticket_is_normalised() -> None:
    assert parse_ticket("jira-123") is not None
    assert parse_ticket(" jira-123 ").text == "JIRA-123"  # type: ignore[union-attr]
    assert parse_ticket("#77").text == "#77"  # type: ignore[union-attr]
    assert parse_ticket("not a ticket") is None
    assert parse_ticket("JIRA-1 and JIRA-2") is None


def test_ticket_urls_from_the_config_patterns() -> None:
    config = Tickets(
        url="https://jira.example.com/browse/{ticket}",
        hash_url="https://github.com/acme/app/issues/{number}",
    )
    jira, issue = find_tickets("JIRA-123 and #4821")
    assert ticket_url(jira, config) == "https://jira.example.com/browse/JIRA-123"
    assert ticket_url(issue, config) == "https://github.com/acme/app/issues/4821"
    only_url = Tickets(url="https://desk.example.com/t?key={key}&n={number}&ref={ticket}")
    assert ticket_url(issue, only_url) == "https://desk.example.com/t?key=&n=4821&ref=%234821"
    assert ticket_url("OPS-9", only_url) == "https://desk.example.com/t?key=OPS&n=9&ref=OPS-9"
    assert ticket_url(jira, Tickets()) is None, "no pattern configured"
    assert ticket_url("free text", config) is None


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"url": "javascript:alert(1)"}, "http"),
        ({"url": "https://x/{id}"}, "placeholders"),
        ({"projects": ["jira"]}, "project key"),
    ],
)
def test_ticket_config_is_validated(values: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Tickets.model_validate(values)


def test_targets_typed_as_minutes() -> None:
    assert parse_targets("2/5/15") == (120, 300, 900)
    assert parse_targets(" 1.5 3 10 ") == (90, 180, 600)
    assert format_targets((120, 300, 900)) == "2/5/15 min"
    assert format_targets((90, 180, 600)) == "1.5/3/10 min"
    for bad in ("2/5", "15/5/2", "0/5/15", "a/b/c", "1/2/99999"):
        with pytest.raises(ValueError):
            parse_targets(bad)


def test_config_targets_by_id_username_or_title_pattern() -> None:
    config = Config(
        targets={
            "* · Support": [10, 20, 30],
            "Initech · Support": [2, 5, 15],
            "-1001": [1, 2, 3],
            "@bigco": [3, 6, 9],
        }
    )
    assert config_targets(Chat(id=-1001, title="Acme · Support"), config) == (60, 120, 180)
    assert config_targets(Chat(id=5, title="x", username="bigco"), config) == (180, 360, 540)
    assert config_targets(Chat(id=7, title="Globex · Support"), config) == (600, 1200, 1800)
    # The first matching pattern wins: '* · Support' is listed before 'Initech · Support'.
    assert config_targets(Chat(id=8, title="Initech · Support"), config) == (600, 1200, 1800)
    assert config_targets(Chat(id=9, title="Private"), config) is None
