"""Well-known secret formats, recognised in any string whatever key it sits under.

The provider formats (prefixes, alphabets, lengths) follow the rule set of gitleaks
(https://github.com/gitleaks/gitleaks, config/gitleaks.toml, MIT licence, Copyright (c) 2019 Zachary
Rice), the maintained scanner we checked them against; the expressions here are written for this
package: every one is linear (no nested quantifier, every repetition bounded) and each rule has
*keywords*, lower-case literals that any match contains, so that the scrubber can look for a handful
of literals across a whole event before it runs any expression (as gitleaks does).

`RULES`: (name, keywords, expression). `TOKENS`: the expressions combined, compiled once.
`KEYWORDS_BY_LAST`: keywords ending with `_`, `-`, `.` or `/` (found cheaply in reversed text);
`KEYWORDS_PLAIN`: the few others (found with `str.find`).
"""
import re

__all__ = ["RULES", "TOKENS", "KEYWORDS", "KEYWORDS_BY_LAST", "KEYWORDS_PLAIN", "SHAPES"]

# Not preceded by a token character: a prefix inside a longer word is not a prefix.
_START = r"(?<![A-Za-z0-9_\-])"

RULES = (
    ("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"gh[pousr]_[A-Za-z0-9]{36,251}"),
    ("github-fine-grained-token", ("github_pat_",), r"github_pat_[A-Za-z0-9_]{22,244}"),
    ("gitlab-token", ("glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "gloas-", "glcbt-", "glimt-",
                      "glft-", "glagent-"),
     r"gl(?:pat|dt|rt|ptt|soat|oas|cbt|imt|ft|agent)-[A-Za-z0-9_\-]{20,250}"),
    ("aws-access-key-id", ("akia", "asia"), r"(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])"),
    ("slack-token", ("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xoxo-", "xapp-"),
     r"xox[abposre]-[A-Za-z0-9\-]{10,250}|xoxe\.xox[bp]-[A-Za-z0-9\-]{10,250}|xapp-[0-9]-[A-Za-z0-9\-]{10,250}"),
    ("slack-webhook", ("/services/", "/workflows/", "/triggers/"),
     r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{20,100}"),
    ("stripe-key", ("sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_", "whsec_"),
     r"[sr]k_(?:live|test|prod)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9]{24,64}"),
    ("google-api-key", ("aiza",), r"AIza[A-Za-z0-9_\-]{35}"),
    ("jwt", ("eyj",), r"eyJ[A-Za-z0-9_\-]{10,4096}\.ey[A-Za-z0-9_\-]{2,8192}\.[A-Za-z0-9_\-]{0,4096}"),
    # A signed session token in base64url segments: itsdangerous (Flask's session cookie), whose
    # first segment is a JSON object (`eyJ`) but whose second is a timestamp, not JSON.
    ("signed-session", ("eyj",), r"eyJ[A-Za-z0-9_\-]{10,4096}\.[A-Za-z0-9_\-]{4,16}\.[A-Za-z0-9_\-]{16,512}"),
    ("npm-token", ("npm_",), r"npm_[A-Za-z0-9]{36}"),
    ("pypi-token", ("pypi-",), r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,1000}"),
    ("rubygems-token", ("rubygems_",), r"rubygems_[a-f0-9]{48}"),
    ("sendgrid-key", ("sg.",), r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    ("openai-anthropic-key", ("sk-",),
     r"sk-(?:ant-(?:api|admin)[0-9]{2}-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,250}"),
    ("shopify-token", ("shpat_", "shpss_", "shpca_", "shppa_"), r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"),
    ("digitalocean-token", ("dop_v1_", "doo_v1_", "dor_v1_"), r"do[opr]_v1_[a-f0-9]{64}"),
    ("vault-token", ("hvs.", "hvb.", "hvr."), r"hv[sbr]\.[A-Za-z0-9_\-]{24,250}"),
    ("terraform-token", (".atlasv1.",), r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}"),
    ("huggingface-token", ("hf_",), r"hf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9])"),
    ("sentry-token", ("sntrys_", "sntryu_"), r"sntry[su]_[A-Za-z0-9_=+/\-]{40,400}"),
    ("docker-token", ("dckr_pat_",), r"dckr_pat_[A-Za-z0-9_\-]{27,100}"),
    ("postman-key", ("pmak-",), r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}"),
    ("newrelic-key", ("nrak-",), r"NRAK-[A-Z0-9]{27}"),
    ("grafana-token", ("glsa_", "glc_"), r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2}"),
    ("linear-key", ("lin_api_",), r"lin_api_[A-Za-z0-9]{40}"),
    ("doppler-token", ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct."), r"dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,44}"),
    ("pulumi-token", ("pul-",), r"pul-[a-f0-9]{40}"),
    ("square-token", ("sq0atp-", "sq0csp-"), r"sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,60}"),
    ("heroku-key", ("hrku-",), r"HRKU-[A-Za-z0-9_\-]{60}"),
    ("age-secret-key", ("age-secret-key-",), r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
    ("onepassword-token", ("ops_",), r"ops_eyJ[A-Za-z0-9+/]{250,4096}={0,3}"),
    ("twilio-api-key", ("sk",), r"SK[0-9a-fA-F]{32}(?![0-9a-fA-F])"),
    ("mailgun-key", ("key-",), r"key-[0-9a-f]{32}(?![0-9a-f])"),
    ("azure-storage-key", ("accountkey",), r"AccountKey=[A-Za-z0-9+/]{20,100}={0,2}"),
    ("azure-sas-signature", ("sig=",), r"sig=[A-Za-z0-9%+/]{20,200}={0,2}"),
    ("google-oauth-token", ("ya29.",), r"ya29\.[A-Za-z0-9_\-]{20,2048}"),
    ("google-client-secret", ("gocspx-",), r"GOCSPX-[A-Za-z0-9_\-]{20,64}"),
    ("heroku-legacy-key", ("heroku",),
     r"(?i:heroku)[^\n]{0,30}?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    ("databricks-token", ("dapi",), r"dapi[0-9a-f]{32}(?:-[0-9])?(?![0-9a-f])"),
    ("discord-bot-token", (".",), r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}"),
    ("discord-webhook", ("/webhooks/",), r"discord(?:app)?\.com/api/webhooks/[0-9]{5,30}/[A-Za-z0-9_\-]{20,100}"),
    ("telegram-bot-token", (":",), r"[0-9]{8,10}:[A-Za-z0-9_\-]{35}(?![A-Za-z0-9_\-])"),
    ("atlassian-token", ("atatt3",), r"ATATT3[A-Za-z0-9_\-=]{60,300}"),
    ("datadog-key", ("datadog",), r"(?i:datadog)[^\n]{0,30}?\b(?:[a-f0-9]{40}|[a-f0-9]{32})\b"),
    ("cloudflare-key", ("cloudflare",), r"(?i:cloudflare)[^\n]{0,30}?\b[A-Za-z0-9_\-]{37,40}\b"),
    ("cloudflare-origin-ca-key", ("v1.0-",), r"v1\.0-[a-f0-9]{24}-[a-f0-9]{140,160}"),
    ("aws-secret-key", ("aws",), r"(?i:aws)[^\n]{0,40}?(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
)
# Rules whose keyword alone is too short or common to look for; the prefilter finds them by shape
# (`SHAPES`: name -> an expression starting with a literal, `prefilter.py` runs it on the event's text).
SHAPES = {
    "twilio-api-key": r"SK[0-9a-fA-F]{32}",
    "discord-bot-token": r"\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27}",
    "telegram-bot-token": r":[A-Za-z0-9_\-]{35}",
}

TOKENS = re.compile(_START + "(?:" + "|".join("(?:%s)" % rule[2] for rule in RULES) + ")")

KEYWORDS = tuple(sorted({k for rule in RULES if rule[0] not in SHAPES for k in rule[1]}))
KEYWORDS_BY_LAST = tuple(k for k in KEYWORDS if k[-1] in "_-./")
KEYWORDS_PLAIN = tuple(k for k in KEYWORDS if k[-1] not in "_-./")
