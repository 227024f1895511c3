"""Settings: defaults with no file, TOML file, environment overrides, and errors that name the key."""

from pathlib import Path

import pytest

from agent_ui.cli import main
from config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("CALLCENTER_")]:
        monkeypatch.delenv(key)


def test_defaults_work_with_no_file(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}"
    assert settings.asterisk[0].ami_host == "127.0.0.1"
    assert settings.agi.host == "127.0.0.1"
    assert [q.dids for q in settings.queues if q.name == "support"] == [["4001"]]
    assert [q.dids for q in settings.queues if q.name == "sales"] == [["4002"]]


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path / "x"))
    assert load_settings().database_url.endswith(f"{tmp_path}/x/callcenter.db")


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "cc.toml"
    config.write_text('[web]\nhost = "0.0.0.0"\nport = 9000\n[database]\nurl = "postgresql+asyncpg://u:p@db/cc"\n')
    monkeypatch.setenv("CALLCENTER_CONFIG", str(config))
    monkeypatch.setenv("CALLCENTER_WEB__PORT", "9100")
    settings = load_settings(data_dir=tmp_path)
    assert settings.web.host == "0.0.0.0"  # from the file
    assert settings.web.port == 9100  # the environment beats the file
    assert settings.database_url == "postgresql+asyncpg://u:p@db/cc"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "cc.toml"
    config.write_text("[web]\nprot = 80\n")
    with pytest.raises(ConfigError, match=r"web\.prot: unknown setting"):
        load_settings(config, data_dir=tmp_path)


def test_bad_value_names_key_and_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_WEB__PORT", "eighty")
    with pytest.raises(ConfigError) as error:
        load_settings(data_dir=tmp_path)
    assert "web.port" in str(error.value) and "CALLCENTER_WEB__PORT" in str(error.value)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[database]\nurl = "mysql://x/y"\n', r"database\.url: must start with one of"),
        ("[agi]\nport = 70000\n", r"agi\.port: Input should be less than or equal to 65535"),
        ('[[queues]]\nname = "a"\ndids = ["4001"]\n[[queues]]\nname = "b"\ndids = ["4001"]\n', "DID 4001 is given to more than one queue"),
        ('[[queues]]\nname = "a"\ndids = ["40x1"]\n', "must contain digits only"),
        ('[[asterisk]]\nagent_interface = "PJSIP/1001"\n', r"asterisk\.0\.agent_interface: must contain \{extension\}"),
    ],
)
def test_invalid_values(tmp_path: Path, toml: str, expected: str) -> None:
    config = tmp_path / "cc.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=expected):
        load_settings(config, data_dir=tmp_path)


def test_broken_or_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[web\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_cli_reports_config_error_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "cc.toml"
    config.write_text("[web]\nport = -1\n")
    assert main(["--config", str(config), "--data-dir", str(tmp_path), "sandbox", "status"]) == 2
    assert "web.port" in capsys.readouterr().err
