"""The simulated organization's learning catalog and organization vocabulary."""

from __future__ import annotations

import numpy as np
import pandas as pd

LMS_HOME = "https://lms.acme.example"
VIDEO_HOME = "https://video.acme.example"
COURSE_BASE = LMS_HOME + "/course/"

DEPARTMENTS = {
    # department: (share of staff, job families, base days to productivity)
    "Engineering": (0.26, ("Software Engineering", "Data Science"), 120),
    "Sales": (0.17, ("Sales",), 100),
    "Customer Success": (0.14, ("Customer Support",), 60),
    "Operations": (0.12, ("Operations",), 75),
    "Product": (0.08, ("Product Management",), 110),
    "Marketing": (0.09, ("Marketing",), 90),
    "Finance": (0.08, ("Finance",), 85),
    "People": (0.06, ("People Operations",), 80),
}

LOCATIONS = {
    # location: (timezone, weight)
    "New York": ("America/New_York", 0.22),
    "Chicago": ("America/Chicago", 0.10),
    "San Francisco": ("America/Los_Angeles", 0.14),
    "Sao Paulo": ("America/Sao_Paulo", 0.06),
    "London": ("Europe/London", 0.16),
    "Berlin": ("Europe/Berlin", 0.10),
    "Bangalore": ("Asia/Kolkata", 0.12),
    "Singapore": ("Asia/Singapore", 0.05),
    "Sydney": ("Australia/Sydney", 0.05),
}

COMPETENCIES = (
    "Project Management",
    "Communication",
    "Technical Expertise",
    "Leadership",
    "Customer Focus",
    "Data Literacy",
)

SKILLS = {
    # skill: competency it feeds
    "Project Management": "Project Management",
    "Agile Delivery": "Project Management",
    "Stakeholder Management": "Communication",
    "Presentation Skills": "Communication",
    "Business Writing": "Communication",
    "Python": "Technical Expertise",
    "Cloud Architecture": "Technical Expertise",
    "Cybersecurity": "Technical Expertise",
    "Coaching": "Leadership",
    "Strategic Thinking": "Leadership",
    "People Management": "Leadership",
    "Client Management": "Customer Focus",
    "Account Management": "Customer Focus",
    "Negotiation": "Customer Focus",
    "Data Analysis": "Data Literacy",
    "SQL": "Data Literacy",
    "Data Visualization": "Data Literacy",
    "Financial Acumen": "Data Literacy",
}

ADL = "http://adlnet.gov/expapi/activities/"
CMI5_COURSE = "https://w3id.org/xapi/cmi5/activitytype/course"
ACTIVITY_TYPES = {
    "course": ADL + "course",
    "module": ADL + "module",
    "assessment": ADL + "assessment",
    "media": ADL + "media",
    "cmi5": CMI5_COURSE,
}

FIRST_NAMES = (
    "Ada Alan Amara Anika Aisha Ben Carla Chen Chloe Dario Diego Elena Emeka Farah Grace Hana Ivan "
    "Jamal Jin Karin Kofi Lara Leila Liam Lucia Maya Mateo Mei Nadia Noah Omar Priya Rafael Rina "
    "Sara Sofia Tariq Tomas Uma Victor Wei Yara Yusuf Zoe"
).split()
LAST_NAMES = (
    "Adeyemi Alvarez Bauer Chen Costa Dubois Eriksen Fischer Garcia Gupta Haddad Ito Jensen Kim "
    "Kowalski Lopez Martin Nakamura Nguyen Novak Okafor Patel Rossi Santos Schmidt Singh Silva "
    "Smith Tanaka Torres Walker Wang Yilmaz Zhang"
).split()


def _slug(title: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")


def build_catalog(rng: np.random.Generator) -> pd.DataFrame:
    """The catalog: compliance, onboarding, product, leadership and elective activities."""
    rows: list[dict] = []

    def add(title, skills, level, program, mandatory, voluntary, minutes, kind, assessed):
        rows.append(
            {
                "activity_id": COURSE_BASE + _slug(title),
                "title": title,
                "skills": list(skills),
                "level": int(level),
                "mandatory": mandatory,
                "voluntary": voluntary,
                "program": program,
                "expected_minutes": float(minutes),
                "kind": kind,
                "assessed": assessed,
            }
        )

    for title, minutes in [
        ("Code of Conduct", 30),
        ("Information Security Awareness", 45),
        ("Anti-Harassment and Respect at Work", 40),
        ("Data Privacy Essentials", 35),
    ]:
        add(title, ["Compliance"], 1, "compliance", True, False, minutes, "course", True)
    for i, title in enumerate(
        [
            "Welcome to Acme",
            "How We Work",
            "Tools and Systems Setup",
            "Our Customers",
            "Security Basics for New Joiners",
            "Your First 90 Days",
            "Team Rituals",
            "Benefits and Policies",
        ]
    ):
        add(
            title, ["Company Knowledge"], 1, "onboarding", False, False, 20 + 5 * i, "module", False
        )
    for i, title in enumerate(
        [
            "Product Overview",
            "Product Deep Dive: Platform",
            "Product Deep Dive: Analytics",
            "Product Deep Dive: Integrations",
            "Pricing and Packaging",
            "Product Certification",
        ]
    ):
        add(
            title,
            ["Product Knowledge"],
            1 + i // 2,
            "product",
            False,
            False,
            40 + 10 * i,
            "module",
            i == 5,
        )
    for i, (title, skills) in enumerate(
        [
            ("Emerging Leaders: Leading Yourself", ["Strategic Thinking"]),
            ("Emerging Leaders: Coaching Conversations", ["Coaching"]),
            ("Emerging Leaders: Leading Teams", ["People Management"]),
            (
                "Emerging Leaders: Strategy and Influence",
                ["Strategic Thinking", "Stakeholder Management"],
            ),
            ("Emerging Leaders: Capstone", ["People Management", "Strategic Thinking"]),
        ]
    ):
        add(title, skills, 3 + (i >= 3), "leadership", False, True, 90, "course", True)
    level_names = {1: "Foundations", 2: "Practitioner", 3: "Advanced", 4: "Expert"}
    for skill in SKILLS:
        program = (
            "technical" if SKILLS[skill] in ("Technical Expertise", "Data Literacy") else "elective"
        )
        for level in (1, 2, 3, 4):
            if level == 4 and rng.random() < 0.4:
                continue
            add(
                f"{skill} {level_names[level]}",
                [skill],
                level,
                program,
                False,
                True,
                30 + 25 * level + int(rng.integers(0, 20)),
                "course",
                True,
            )
            if level <= 2:
                add(
                    f"{skill} in 10 Minutes" if level == 1 else f"{skill}: Case Study Video",
                    [skill],
                    level,
                    program,
                    False,
                    True,
                    10 if level == 1 else 18,
                    "media",
                    False,
                )
    return pd.DataFrame(rows)
