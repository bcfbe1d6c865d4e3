from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sealing.keys import (
    KeyRetireRefused,
    has_private_key,
    keys_dir,
    sealing_key_ensure,
    sealing_key_retire,
    sealing_key_rotate,
)
from sealing.models import SealingKey


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = (
        "The keys phones seal reports for. Private keys are files in SEALING_KEYS_DIR, never in "
        "the database: copy that directory to offline storage after every rotation and restore "
        "it before the database."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser(
            "ensure", help="create an active key if none is active or its private file is missing"
        )
        actions.add_parser("rotate", help="a new active key; older keys keep decrypting")
        actions.add_parser("list", help="every key, with its state and private file")
        retire = actions.add_parser(
            "retire",
            help=(
                "mark a superseded key retired. Keep its private key until no phone can still "
                "hold reports sealed with it: at least SEALING_KEY_KEEP_DAYS (default 180) after "
                "it was superseded"
            ),
        )
        retire.add_argument("key_id")
        retire.add_argument(
            "--delete-private",
            action="store_true",
            help="also delete the private key file: what was sealed with it can never be opened",
        )
        retire.add_argument(
            "--force",
            action="store_true",
            help="delete before SEALING_KEY_KEEP_DAYS or while quarantined submissions need it",
        )

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _ensure(self, **options):
        key, created = sealing_key_ensure()
        if created:
            self.stdout.write(
                f"Sealing key {key.key_id} created and active; its private key is in "
                f"{keys_dir()}. Back that directory up now (offline)."
            )

    def _rotate(self, **options):
        key = sealing_key_rotate()
        self.stdout.write(
            f"Sealing key {key.key_id} is now active; older keys still decrypt. Back up "
            f"{keys_dir()} now (offline)."
        )

    def _list(self, **options):
        keys = list(SealingKey.objects.all())
        if not keys:
            self.stdout.write("No sealing keys (run: manage.py sealing_keys ensure).")
            return
        row = "{:<18} {:<17} {:<7} {:<17} {:<17} {:<13} {}"
        self.stdout.write(
            row.format(
                "key id", "created", "active", "superseded", "retired", "private file", "last used"
            )
        )
        for key in keys:
            self.stdout.write(
                row.format(
                    key.key_id,
                    _when(key.created_at),
                    "yes" if key.active else "no",
                    _when(key.superseded_at),
                    _when(key.retired_at),
                    "present" if has_private_key(key.key_id) else "MISSING",
                    _when(key.last_used_at) if key.last_used_at else "never",
                )
            )
        self.stdout.write(
            f"Private keys in {keys_dir()}; keep each for {settings.SEALING_KEY_KEEP_DAYS} days "
            f"after it is superseded."
        )

    def _retire(self, *, key_id, delete_private, force, **options):
        try:
            key = sealing_key_retire(key_id=key_id, delete_private=delete_private, force=force)
        except KeyRetireRefused as exc:
            raise CommandError(str(exc)) from None
        done = "retired; its private key is deleted" if delete_private else "retired"
        self.stdout.write(f"Sealing key {key.key_id} {done}.")
