"""Bad configuration stops the CLI with exit code 2 and one message naming file, key and problem."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.config import Config, ConfigError
from tests.conftest import REPO_ROOT


def scanner_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", target, ignore=shutil.ignore_patterns("demo"))
    return target


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_shipped_configs_are_valid() -> None:
    for directory in (REPO_ROOT / "config", REPO_ROOT / "config" / "demo"):
        config = Config(directory, env={})
        config.validate_all()
        assert config.targets.sites, f"{directory} has no site targets"


def test_register_marks_noc_holders_as_not_licensed() -> None:
    register = Config(REPO_ROOT / "config", env={}).register
    statuses = {p.name: p.status for p in register.platforms}
    assert statuses["Binance"] == "noc"
    assert statuses["HTX"] == "noc"


def test_invalid_seed_url_names_file_key_and_problem(config_dir: Path) -> None:
    write(
        config_dir / "targets.yaml",
        "sites:\n"
        "  - {name: a, seeds: ['http://a.test/']}\n"
        "  - {name: b, seeds: ['http://b.test/']}\n"
        "  - {name: c, seeds: ['http://c.test/']}\n"
        "  - {name: d, seeds: ['not a url']}\n",
    )
    with pytest.raises(ConfigError) as excinfo:
        Config(config_dir, env={}).validate_all()
    assert str(excinfo.value).endswith("targets.yaml: sites[3].seeds[0]: not a valid URL")


def test_unknown_key_is_named(config_dir: Path) -> None:
    write(config_dir / "settings.yaml", "http:\n  user_agnet: typo\n")
    with pytest.raises(ConfigError, match=r"settings.yaml: http.user_agnet: unknown key"):
        Config(config_dir, env={}).validate_all()


def test_sizes_postgresql_cannot_store_are_refused_at_load(config_dir: Path) -> None:
    """A WARC file of more than 2 GiB has offsets PostgreSQL's INTEGER column refuses: every capture
    after that point failed to record, on PostgreSQL alone."""
    write(config_dir / "settings.yaml", f"warc_max_bytes: {4 * 1024**3}\n")
    with pytest.raises(ConfigError, match=r"settings.yaml: warc_max_bytes: .*less than or equal"):
        Config(config_dir, env={}).validate_all()
    write(config_dir / "settings.yaml", f"http:\n  max_response_bytes: {3 * 1024**3}\n")
    with pytest.raises(ConfigError, match=r"settings.yaml: http.max_response_bytes: .*less than or equal"):
        Config(config_dir, env={}).validate_all()


def test_wrong_type_is_named(config_dir: Path) -> None:
    write(config_dir / "settings.yaml", "http:\n  concurrency: lots\n")
    with pytest.raises(ConfigError, match=r"settings.yaml: http.concurrency: .*integer"):
        Config(config_dir, env={}).validate_all()


def test_bad_yaml_gives_line_and_column(config_dir: Path) -> None:
    write(config_dir / "licensed.yaml", "platforms:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"licensed.yaml: line \d+, column \d+: invalid YAML"):
        Config(config_dir, env={}).validate_all()


def test_register_rejects_urls_as_domains(config_dir: Path) -> None:
    write(
        config_dir / "licensed.yaml",
        "platforms:\n  - {name: X, domains: ['https://x.test/'], status: licensed}\n",
    )
    with pytest.raises(ConfigError, match=r"platforms\[0\].domains: .*not a bare domain"):
        Config(config_dir, env={}).validate_all()


def test_a_domain_on_two_register_platforms_names_both(config_dir: Path) -> None:
    write(
        config_dir / "licensed.yaml",
        "platforms:\n"
        "  - {name: Alpha, domains: [alpha.test, shared.test], status: licensed}\n"
        "  - {name: Beta, domains: [beta.test, SHARED.test.], status: revoked}\n",
    )
    with pytest.raises(ConfigError) as excinfo:
        Config(config_dir, env={}).validate_all()
    assert str(excinfo.value).endswith(
        "licensed.yaml: platforms: domain 'shared.test' is listed under two platforms: "
        "'Alpha' (platforms[0]) and 'Beta' (platforms[1])"
    )


def test_unicode_host_names_are_idna_encoded_at_load(config_dir: Path) -> None:
    from scanner.detection.register import RegisterIndex

    write(
        config_dir / "targets.yaml",
        "sites:\n  - {name: b, seeds: ['http://bücher.test/'], allowed_domains: [Bücher.test, Ölhandel.test]}\n"
        "pollers:\n  - {name: p, adapter: markets, base_url: 'http://api.bücher.test/', platform: bücher.test}\n",
    )
    write(config_dir / "licensed.yaml", "platforms:\n  - {name: Bücher, domains: [bücher.test], status: licensed}\n")
    config = Config(config_dir, env={})
    config.validate_all()
    site = config.targets.sites[0]
    # The seed URL, the offsite filter's domains and the register all speak the same (ASCII) host name.
    assert str(site.seeds[0]) == "http://xn--bcher-kva.test/"
    assert site.allowed_domains == ["xn--bcher-kva.test", "xn--lhandel-80a.test"]
    assert config.targets.pollers[0].platform == "xn--bcher-kva.test"
    match = RegisterIndex(config.register).match("http://www.xn--bcher-kva.test/")
    assert match is not None and match.licensed


def test_invalid_unicode_domain_is_named(config_dir: Path) -> None:
    write(config_dir / "licensed.yaml", "platforms:\n  - {name: X, domains: ['a\u200db.test'], status: licensed}\n")
    with pytest.raises(ConfigError, match=r"platforms\[0\].domains: .*not a valid internationalised domain name"):
        Config(config_dir, env={}).validate_all()


def test_unknown_schedule_group_is_named(config_dir: Path) -> None:
    write(config_dir / "targets.yaml", "sites:\n  - {name: a, seeds: ['http://a.test/'], schedule: fortnightly}\n")
    with pytest.raises(ConfigError, match=r"sites\[0\].schedule: schedule group 'fortnightly' is not defined"):
        Config(config_dir, env={}).validate_all()


def test_bad_cron_is_named(config_dir: Path) -> None:
    write(config_dir / "schedules.yaml", "groups:\n  daily: '61 * * * *'\n")
    with pytest.raises(ConfigError, match=r"schedules.yaml: groups: not a valid cron expression"):
        Config(config_dir, env={}).validate_all()


def test_environment_overrides_data_dir_and_database(tmp_path: Path) -> None:
    config = Config(
        REPO_ROOT / "config",
        env={"SCANNER_DATA_DIR": str(tmp_path / "d"), "SCANNER_DATABASE_URL": "postgresql://u@h/db"},
    )
    assert config.data_dir == tmp_path / "d"
    assert config.database_url == "postgresql://u@h/db"
    default = Config(REPO_ROOT / "config", env={"SCANNER_DATA_DIR": str(tmp_path / "d")})
    assert default.database_url == f"sqlite:///{(tmp_path / 'd' / 'pkscan.sqlite3').resolve()}"


def test_demo_config_inherits_lexicons_from_parent() -> None:
    demo = Config(REPO_ROOT / "config" / "demo", env={})
    assert demo.lexicon_dir.resolve() == (REPO_ROOT / "config" / "lexicons").resolve()


def test_cli_exits_2_with_the_message_and_no_traceback(config_dir: Path, tmp_path: Path) -> None:
    write(config_dir / "settings.yaml", "http:\n  timeout_seconds: -3\n")
    env = {"PATH": "/usr/bin:/bin", "SCANNER_CONFIG_DIR": str(config_dir), "SCANNER_DATA_DIR": str(tmp_path / "d")}
    result = scanner_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "settings.yaml: http.timeout_seconds: Input should be greater than 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_exits_2_for_missing_config_dir(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SCANNER_CONFIG_DIR": str(tmp_path / "nowhere")}
    result = scanner_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "config directory not found" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "code", "message"),
    [
        ("SCANNER_DATABASE_URL", "bogus://x", 2, "SCANNER_DATABASE_URL: unsupported database URL 'bogus://x'"),
        ("SCANNER_DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/x", 1,
         "database unreachable: postgresql+psycopg://u:***@127.0.0.1:1/x"),
        ("SCANNER_DATA_DIR", "/proc/no-such-dir", 2, "SCANNER_DATA_DIR: cannot create /proc/no-such-dir"),
    ],
)
def test_bad_database_or_data_dir_is_one_line_not_a_traceback(
    tmp_path: Path, variable: str, value: str, code: int, message: str
) -> None:
    env = {"PATH": "/usr/bin:/bin", "SCANNER_CONFIG_DIR": str(REPO_ROOT / "config"),
           "SCANNER_DATA_DIR": str(tmp_path / "d"), variable: value}
    result = scanner_cli("runs", env=env, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_unknown_log_level_is_a_usage_error(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SCANNER_CONFIG_DIR": str(REPO_ROOT / "config"),
           "SCANNER_DATA_DIR": str(tmp_path / "d"), "SCANNER_LOG_LEVEL": "loud"}
    result = scanner_cli("runs", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "SCANNER_LOG_LEVEL: 'LOUD' is not a log level" in result.stderr and "Traceback" not in result.stderr


def test_a_replay_age_out_of_range_is_named(config_dir: Path) -> None:
    settings = (config_dir / "settings.yaml").read_text().replace("replay_max_hours: 24", "replay_max_hours: 0")
    write(config_dir / "settings.yaml", settings)
    with pytest.raises(ConfigError, match=r"settings.yaml: crawl.replay_max_hours: .*greater than 0"):
        Config(config_dir, env={}).validate_all()
