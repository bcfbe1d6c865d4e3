"""The ACLED event taxonomy (ACLED Codebook 2023): the source of EventType and SubEventType rows.

Kept as data so the seeding migration, the ACLED import and the export all read one list.
"""

POLITICAL_VIOLENCE = "Political violence"
DEMONSTRATIONS = "Demonstrations"
STRATEGIC = "Strategic developments"

# (event type, disorder type, [(sub-event type, disorder type of the sub-type)])
ACLED_TAXONOMY: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Explosions/Remote violence",
        POLITICAL_VIOLENCE,
        [
            ("Shelling/artillery/missile attack", POLITICAL_VIOLENCE),
            ("Air/drone strike", POLITICAL_VIOLENCE),
            ("Remote explosive/landmine/IED", POLITICAL_VIOLENCE),
            ("Suicide bomb", POLITICAL_VIOLENCE),
            ("Grenade", POLITICAL_VIOLENCE),
            ("Chemical weapon", POLITICAL_VIOLENCE),
        ],
    ),
    (
        "Battles",
        POLITICAL_VIOLENCE,
        [
            ("Armed clash", POLITICAL_VIOLENCE),
            ("Government regains territory", POLITICAL_VIOLENCE),
            ("Non-state actor overtakes territory", POLITICAL_VIOLENCE),
        ],
    ),
    (
        "Violence against civilians",
        POLITICAL_VIOLENCE,
        [
            ("Attack", POLITICAL_VIOLENCE),
            ("Abduction/forced disappearance", POLITICAL_VIOLENCE),
            ("Sexual violence", POLITICAL_VIOLENCE),
        ],
    ),
    (
        "Strategic developments",
        STRATEGIC,
        [
            ("Disrupted weapons use", STRATEGIC),
            ("Headquarters or base established", STRATEGIC),
            ("Looting/property destruction", STRATEGIC),
            ("Non-violent transfer of territory", STRATEGIC),
            ("Arrests", STRATEGIC),
            ("Agreement", STRATEGIC),
            ("Change to group/activity", STRATEGIC),
            ("Other", STRATEGIC),
        ],
    ),
    (
        "Protests",
        DEMONSTRATIONS,
        [
            ("Peaceful protest", DEMONSTRATIONS),
            ("Protest with intervention", DEMONSTRATIONS),
            ("Excessive force against protesters", f"{POLITICAL_VIOLENCE}; {DEMONSTRATIONS}"),
        ],
    ),
    (
        "Riots",
        DEMONSTRATIONS,
        [
            ("Violent demonstration", DEMONSTRATIONS),
            ("Mob violence", DEMONSTRATIONS),
        ],
    ),
]


def slug_for(name: str) -> str:
    """A stable code from an ACLED name: 'Air/drone strike' -> 'air-drone-strike'."""
    from django.utils.text import slugify

    return slugify(name.replace("/", " "))
