"""The demo's script: a TOML file shipped with the package, validated with one-line errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tgtriage.core.sources import demo_script
from tgtriage.core.sources.demo import DemoSource

from tests.demo_harness import SCRIPT


def test_script_validates_and_names_mistakes() -> None:
    demo_script.validate(SCRIPT)
    assert demo_script.seconds("1h15m") == 4500
    assert demo_script.seconds("2m30s") == 150
    with pytest.raises(ValueError, match="bad duration"):
        demo_script.seconds("soon")
    broken = dataclasses.replace(
        SCRIPT.scenarios[0], live=(demo_script.Say("dana", "hi", quote="nope"),)
    )
    with pytest.raises(ValueError, match="scenario 'acme' live\\[0\\]: quote 'nope'"):
        demo_script.validate(dataclasses.replace(SCRIPT, scenarios=(broken,)))
    with pytest.raises(ValueError, match="unknown speaker 'bob'"):
        DemoSource(
            script=dataclasses.replace(
                SCRIPT,
                scenarios=(dataclasses.replace(broken, live=(demo_script.Say("bob", "hi"),)),),
            )
        )


def test_the_script_is_a_toml_file_shipped_with_the_package() -> None:
    assert demo_script.SCRIPT_PATH.name == "demo_script.toml" and demo_script.SCRIPT_PATH.is_file()
    script = demo_script.load_script(demo_script.SCRIPT_PATH)
    assert [p.key for p in (script.me, *script.teammates)] == ["me", "priya", "tom"]
    assert len(script.scenarios) == 18 and script.scenarios[0].title == "Acme · Support"
    acme = script.scenarios[0]
    assert isinstance(acme.live[-1], demo_script.React) and acme.live[-1].emoji == "👍"
    assert acme.past[3].media is not None and acme.past[3].media.size == 214_331
    assert [s.key for s in script.scenarios if s.patience is None] == ["maria"]
    assert set(script.ambient) == {"en", "ru"} and set(script.older_threads) == {"en", "ru"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('key = "northwind"', 'key = "northwind'), "not valid TOML"),
        (
            ('who = "greta", text = "Hi, anyone there?"', 'who = "bob", text = "Hi"'),
            "unknown speaker 'bob'",
        ),
        (
            ('{ say = "greta", text = "Both', '{ sey = "greta", text = "Both'),
            "one of say, edit, delete or react",
        ),
        (
            ('customers = ["greta"]', 'customers = ["gretta"]'),
            "customer 'gretta' is not in [customers]",
        ),
        (
            ('wait = "1m", quote = "inv"', 'wait = "a minute", quote = "inv"'),
            "bad duration 'a minute'",
        ),
    ],
)
def test_a_broken_script_is_one_line_naming_file_line_and_fix(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    text = demo_script.SCRIPT_PATH.read_text(encoding="utf-8")
    assert change[0] in text
    broken = tmp_path / "script.toml"
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(demo_script.ScriptError) as info:
        demo_script.load_script(broken)
    message = str(info.value)
    assert "\n" not in message and problem in message, message
    lines = text.splitlines()
    expected = next(n for n, row in enumerate(lines, 1) if 'key = "northwind' in row)
    assert message.startswith(f"{broken}:{expected}: "), message


def test_sounds_closing() -> None:
    assert demo_script.sounds_closing("Thanks a lot!")
    assert demo_script.sounds_closing("Спасибо большое!")
    assert not demo_script.sounds_closing("Ok, thank you. How long does the refund take?")
    assert not demo_script.sounds_closing("anyone there?")
