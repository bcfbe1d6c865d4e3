"""The ACLED event taxonomy (ACLED Codebook 2023): the source of EventType and SubEventType rows.

Kept as data so the seeding migration, the ACLED import and the export all read one list. The
names are ACLED's English (stored, exported and matched on import as they are); each is marked
for translation, so the interface shows it in the reader's language (EventType.label).
"""

from django.utils.translation import gettext_noop

POLITICAL_VIOLENCE = "Political violence"
DEMONSTRATIONS = "Demonstrations"
STRATEGIC = "Strategic developments"

# (event type, disorder type, [(sub-event type, disorder type of the sub-type)])
ACLED_TAXONOMY: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        gettext_noop("Explosions/Remote violence"),
        POLITICAL_VIOLENCE,
        [
            (gettext_noop("Shelling/artillery/missile attack"), POLITICAL_VIOLENCE),
            (gettext_noop("Air/drone strike"), POLITICAL_VIOLENCE),
            (gettext_noop("Remote explosive/landmine/IED"), POLITICAL_VIOLENCE),
            (gettext_noop("Suicide bomb"), POLITICAL_VIOLENCE),
            (gettext_noop("Grenade"), POLITICAL_VIOLENCE),
            (gettext_noop("Chemical weapon"), POLITICAL_VIOLENCE),
        ],
    ),
    (
        gettext_noop("Battles"),
        POLITICAL_VIOLENCE,
        [
            (gettext_noop("Armed clash"), POLITICAL_VIOLENCE),
            (gettext_noop("Government regains territory"), POLITICAL_VIOLENCE),
            (gettext_noop("Non-state actor overtakes territory"), POLITICAL_VIOLENCE),
        ],
    ),
    (
        gettext_noop("Violence against civilians"),
        POLITICAL_VIOLENCE,
        [
            (gettext_noop("Attack"), POLITICAL_VIOLENCE),
            (gettext_noop("Abduction/forced disappearance"), POLITICAL_VIOLENCE),
            (gettext_noop("Sexual violence"), POLITICAL_VIOLENCE),
        ],
    ),
    (
        gettext_noop("Strategic developments"),
        STRATEGIC,
        [
            (gettext_noop("Disrupted weapons use"), STRATEGIC),
            (gettext_noop("Headquarters or base established"), STRATEGIC),
            (gettext_noop("Looting/property destruction"), STRATEGIC),
            (gettext_noop("Non-violent transfer of territory"), STRATEGIC),
            (gettext_noop("Arrests"), STRATEGIC),
            (gettext_noop("Agreement"), STRATEGIC),
            (gettext_noop("Change to group/activity"), STRATEGIC),
            (gettext_noop("Other"), STRATEGIC),
        ],
    ),
    (
        gettext_noop("Protests"),
        DEMONSTRATIONS,
        [
            (gettext_noop("Peaceful protest"), DEMONSTRATIONS),
            (gettext_noop("Protest with intervention"), DEMONSTRATIONS),
            (
                gettext_noop("Excessive force against protesters"),
                f"{POLITICAL_VIOLENCE}; {DEMONSTRATIONS}",
            ),
        ],
    ),
    (
        gettext_noop("Riots"),
        DEMONSTRATIONS,
        [
            (gettext_noop("Violent demonstration"), DEMONSTRATIONS),
            (gettext_noop("Mob violence"), DEMONSTRATIONS),
        ],
    ),
]


def slug_for(name: str) -> str:
    """A stable code from an ACLED name: 'Air/drone strike' -> 'air-drone-strike'."""
    from django.utils.text import slugify

    return slugify(name.replace("/", " "))
