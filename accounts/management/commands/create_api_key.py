from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import Role
from accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create a named API key for a partner account and print it once (it is stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username the key acts as")
        parser.add_argument("--name", required=True, help="a name for the key, e.g. the partner")
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="create the user in the partner group if it does not exist",
        )

    def handle(self, *args, user, name, create_user, **options):
        User = get_user_model()
        account = User.objects.filter(username=user).first()
        if account is None:
            if not create_user:
                raise CommandError(
                    f"No user {user!r}; pass --create-user to make a partner account."
                )
            account = User.objects.create_user(username=user)
            account.set_unusable_password()
            account.save()
            account.groups.add(Group.objects.get(name=Role.PARTNER))
        key_obj, key = api_key_create(user=account, name=name)
        self.stdout.write(
            f"API key {key_obj.name!r} for {account.username} (prefix {key_obj.prefix}):"
        )
        self.stdout.write(key)
        self.stdout.write(
            "Send it as the header  Authorization: Api-Key <key>. It is not shown again."
        )
