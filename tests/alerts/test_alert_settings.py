"""[alerts] and [alerts.webhook] in the config, and alerts.toml in
`quantdesk config validate` and `config path`: a bad value is named with a
fix, and the webhook URL (a secret) never appears in a message or a repr."""

from __future__ import annotations

import pytest

from quantdesk.cli import main as cli_main
from quantdesk.config.paths import alert_rules_path
from quantdesk.config.settings import load_config
from quantdesk.core.problems import ProblemsError

SECRET = "https://hooks.slack.com/services/T0/B0/sEcReTtOkEn"


def test_the_alerts_settings_load_and_keep_the_url_secret(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(f'[alerts]\ncooldown_s = 60\nbell = false\n[alerts.webhook]\nurl = "{SECRET}"\nretries = 2\n')
    s = load_config(path, environ={})
    assert (s.alerts.cooldown_s, s.alerts.bell, s.alerts.webhook.retries) == (60, False, 2)
    assert s.alerts.webhook.url.get_secret_value() == SECRET
    assert "sEcReT" not in repr(s) and "sEcReT" not in str(s.alerts)


def test_a_bad_webhook_url_is_named_without_showing_it(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[alerts.webhook]\nurl = "hooks.slack.com/services/sEcReTtOkEn"\ntimeout_s = 0\n')
    with pytest.raises(ProblemsError) as info:
        load_config(path, environ={})
    text = info.value.render()
    assert "alerts.webhook.url: value error, must be an http(s):// webhook URL" in text
    assert "alerts.webhook.timeout_s" in text and "sEcReT" not in text


def test_config_validate_reports_the_rules_file_and_config_path_lists_it(tmp_path, capsys):
    good = tmp_path / "good.toml"
    good.write_text("")
    alert_rules_path().parent.mkdir(parents=True, exist_ok=True)
    alert_rules_path().write_text('[[alert]]\nrule = "SOL-PERP PRICE > 180"\n\n[[alert]]\nrule = "SOL-PERP FUNDING > 5"\n')
    assert cli_main(["config", "validate", "--config", str(good)]) == 1
    err = capsys.readouterr().err
    assert f"{alert_rules_path()}:4: alert[2].rule: '5' needs a unit" in err and "e.g. ALERT SOL-PERP FUNDING > 50%" in err
    assert cli_main(["config", "path", "--config", str(good)]) == 0
    out = capsys.readouterr().out
    assert f"alert rules      {alert_rules_path()}  [found]" in out
