"""The NYC Local Law 144 checklist: each requirement of a bias-audit summary and where the report covers it.

References are to the law (NYC Admin. Code §20-870 to §20-874) and the rules of the
Department of Consumer and Worker Protection (6 RCNY §5-300 to §5-304). This is a checklist
of what the report *contains*, not legal advice: independence of the auditor, publication and
notices are the employer's obligations.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LL144_CHECKLIST", "ll144_status"]

#: Every item a bias-audit summary must (or may) show, the rule, and the report field.
LL144_CHECKLIST: tuple[dict[str, str], ...] = (
    {
        "id": "audit_date",
        "requirement": "Date of the most recent bias audit",
        "rule": "6 RCNY §5-303",
        "field": "audit.audit_date",
    },
    {
        "id": "within_one_year",
        "requirement": "The tool is used no more than one year after its most recent bias audit",
        "rule": "Admin. Code §20-871(a)(1); 6 RCNY §5-301(a)",
        "field": "audit.audit_date",
    },
    {
        "id": "distribution_date",
        "requirement": "Distribution date of the automated employment decision tool",
        "rule": "6 RCNY §5-303",
        "field": "audit.distribution_date",
    },
    {
        "id": "independent_auditor",
        "requirement": "Conducted by an independent auditor",
        "rule": "Admin. Code §20-870; 6 RCNY §5-300",
        "field": "audit.auditor",
    },
    {
        "id": "data_source",
        "requirement": "Source and explanation of the data used (historical data, or test data "
        "with the reason historical data was insufficient)",
        "rule": "6 RCNY §5-302, §5-303",
        "field": "data",
    },
    {
        "id": "n_assessed",
        "requirement": "Number of individuals assessed in each category",
        "rule": "6 RCNY §5-303",
        "field": "by_group[].n",
    },
    {
        "id": "selection_rates",
        "requirement": "Selection rate of each category (tools that select or classify)",
        "rule": "6 RCNY §5-301(b)",
        "field": "impact_ratios[kind=selection].rate",
    },
    {
        "id": "scoring_rates",
        "requirement": "Median score of the full sample and scoring rate of each category "
        "(tools that score)",
        "rule": "6 RCNY §5-300, §5-301(c)",
        "field": "decision.median_score, impact_ratios[kind=scoring].rate",
    },
    {
        "id": "impact_ratios",
        "requirement": "Impact ratio of each category against the most selected (highest "
        "scoring) category",
        "rule": "6 RCNY §5-300, §5-301(b)-(c)",
        "field": "impact_ratios[].impact_ratio",
    },
    {
        "id": "sex_categories",
        "requirement": "Sex categories computed separately",
        "rule": "6 RCNY §5-301(b)-(c)",
        "field": "attributes",
    },
    {
        "id": "race_ethnicity_categories",
        "requirement": "Race/ethnicity categories computed separately",
        "rule": "6 RCNY §5-301(b)-(c)",
        "field": "attributes",
    },
    {
        "id": "intersectional_categories",
        "requirement": "Intersectional categories of sex and race/ethnicity",
        "rule": "6 RCNY §5-301(b)-(c)",
        "field": "attributes",
    },
    {
        "id": "unknown_category",
        "requirement": "Number of individuals assessed who fall within an unknown category",
        "rule": "6 RCNY §5-301(b)-(c), §5-303",
        "field": "attributes[].n_unknown",
    },
    {
        "id": "small_category_exclusion",
        "requirement": "Categories under 2% of the data excluded from impact ratios only with the "
        "justification, their number of individuals and their rate",
        "rule": "6 RCNY §5-301(d)",
        "field": "exclusions",
    },
    {
        "id": "candidate_notice",
        "requirement": "Notice to candidates and employees 10 business days before use, with "
        "the qualifications assessed and how to request an alternative process",
        "rule": "Admin. Code §20-871(b); 6 RCNY §5-304",
        "field": "",
    },
)

_SEX = {"sex", "gender"}
_RACE = {"race_ethnicity", "race", "ethnicity", "race/ethnicity"}


def ll144_status(report: dict[str, Any]) -> list[dict[str, str]]:
    """The checklist with a status and a note for one audit report (its ``to_dict()``)."""
    audit = report.get("audit", {})
    data = report.get("data", {})
    names = [a["name"] for a in report.get("attributes", [])]
    singles = {n.lower() for n in names if " × " not in n}
    crosses = [n for n in names if " × " in n]
    kinds = {r["kind"] for r in report.get("impact_ratios", [])}
    excluded = report.get("exclusions", [])
    out = []
    for item in LL144_CHECKLIST:
        status, note = "covered", ""
        key = item["id"]
        if key == "audit_date":
            if audit.get("audit_date"):
                note = str(audit["audit_date"])
            else:
                status, note = "missing", "pass audit_date= (the report never reads the clock)"
        elif key == "within_one_year":
            status = "employer"
            note = "re-audit before " + (
                f"one year after {audit['audit_date']}" if audit.get("audit_date") else "use"
            )
        elif key == "distribution_date":
            if audit.get("distribution_date"):
                note = str(audit["distribution_date"])
            else:
                status, note = "missing", "pass distribution_date="
        elif key == "independent_auditor":
            if audit.get("auditor"):
                status, note = "declared", f"declared by the user: {audit['auditor']}"
            else:
                status, note = (
                    "missing",
                    "pass auditor= (independence is not something a library can certify)",
                )
        elif key == "data_source":
            source = data.get("source")
            note = f"{source} data" + (
                f": {data['description']}" if data.get("description") else ""
            )
            if source == "test" and not data.get("description"):
                status, note = "missing", "test data needs an explanation (data_description=)"
        elif key == "n_assessed":
            note = f"{data.get('n_rows', 0)} rows assessed"
        elif key == "selection_rates":
            if "selection" not in kinds:
                status, note = (
                    "not applicable",
                    "no binary decision (pass threshold= or top_fraction=)",
                )
        elif key == "scoring_rates":
            if "scoring" not in kinds:
                status, note = "not applicable", "binary decisions: selection rates apply"
            else:
                median = report.get("decision", {}).get("median_score")
                note = f"median score {median:.4g}" if isinstance(median, float) else ""
        elif key == "impact_ratios":
            note = ", ".join(sorted(kinds))
        elif key == "sex_categories":
            if not singles & _SEX:
                status, note = "missing", "no sex/gender attribute audited"
        elif key == "race_ethnicity_categories":
            if not singles & _RACE:
                status, note = "missing", "no race/ethnicity attribute in the sensitive table"
        elif key == "intersectional_categories":
            if crosses:
                note = ", ".join(crosses)
            else:
                status, note = "missing", "no intersection audited (needs sex and race/ethnicity)"
        elif key == "unknown_category":
            note = ", ".join(f"{a['name']}: {a['n_unknown']}" for a in report.get("attributes", []))
        elif key == "small_category_exclusion":
            note = f"{len(excluded)} categories excluded" if excluded else "no category excluded"
        elif key == "candidate_notice":
            status, note = "employer", "outside the report: the employer's notice obligation"
        out.append({**item, "status": status, "note": note})
    return out
