"""Who may do what on an engagement: Engagement.access_for and the querysets that filter by it.

The table spells the rule out case by case, so changing the rule fails this test.
"Owner" is a member of the organisation that proposed the engagement (here the proposer
themself), "teammate" another member of that organisation, "counterpart" a member of
the other party and "outsider" a member of neither.
"""

import pytest
from django.core.exceptions import PermissionDenied

from relationships.models import SLA, Engagement
from tests.factories import EngagementFactory, MembershipFactory, SLAFactory, UserFactory

pytestmark = pytest.mark.django_db

# status, relation, role: read write administer archive accept ("y" or "-")
TABLE = """
active    owner        admin     y y y y -
active    owner        manager   y y - - -
active    owner        viewer    y - - - -
active    teammate     admin     y y y y -
active    teammate     manager   y y - - -
active    teammate     viewer    y - - - -
active    counterpart  admin     y y y y -
active    counterpart  manager   y y - - -
active    counterpart  viewer    y - - - -
active    outsider     admin     - - - - -
active    outsider     manager   - - - - -
active    outsider     viewer    - - - - -
proposed  owner        admin     y - - y -
proposed  owner        manager   y - - - -
proposed  owner        viewer    y - - - -
proposed  teammate     admin     y - - y -
proposed  teammate     manager   y - - - -
proposed  teammate     viewer    y - - - -
proposed  counterpart  admin     y - - y y
proposed  counterpart  manager   y - - - -
proposed  counterpart  viewer    y - - - -
proposed  outsider     admin     - - - - -
proposed  outsider     manager   - - - - -
proposed  outsider     viewer    - - - - -
archived  owner        admin     y - - y -
archived  owner        manager   y - - - -
archived  owner        viewer    y - - - -
archived  teammate     admin     y - - y -
archived  teammate     manager   y - - - -
archived  teammate     viewer    y - - - -
archived  counterpart  admin     y - - y -
archived  counterpart  manager   y - - - -
archived  counterpart  viewer    y - - - -
archived  outsider     admin     - - - - -
archived  outsider     manager   - - - - -
archived  outsider     viewer    - - - - -
"""
ACTIONS = ("read", "write", "administer", "archive", "accept")
ROWS = [
    (status, relation, role, dict(zip(ACTIONS, [flag == "y" for flag in flags], strict=True)))
    for status, relation, role, *flags in (line.split() for line in TABLE.strip().splitlines())
]
OTHER_SIDE = {"client": "provider", "provider": "client"}


@pytest.fixture
def world(client_org, provider_org, outsider_org):
    return {"client": client_org, "provider": provider_org, "outsider": outsider_org}


def _case(world, proposing_side, status, relation, role):
    """The engagement, the user in that relation to it with that role, and their side."""
    side = {
        "owner": proposing_side,
        "teammate": proposing_side,
        "counterpart": OTHER_SIDE[proposing_side],
    }.get(relation)
    user = UserFactory()
    MembershipFactory(user=user, organization=world[side or "outsider"], role=role)
    proposer = user if relation == "owner" else UserFactory()
    if relation != "owner":
        MembershipFactory(user=proposer, organization=world[proposing_side], role="admin")
    engagement = EngagementFactory(
        client=world["client"],
        provider=world["provider"],
        status=status,
        proposed_by=proposer,
        proposed_by_side=proposing_side,
    )
    return engagement, user, side


@pytest.mark.parametrize("proposing_side", ["client", "provider"])
@pytest.mark.parametrize("status,relation,role,allowed", ROWS)
def test_access_follows_the_table(world, proposing_side, status, relation, role, allowed):
    engagement, user, side = _case(world, proposing_side, status, relation, role)
    access = engagement.access_for(user)
    assert access.side == side
    assert access.role == (role if side else None)
    assert {action: getattr(access, f"can_{action}") for action in ACTIONS} == allowed
    for action, may in allowed.items():
        if may:
            assert access.require(action) is access
        else:
            with pytest.raises(PermissionDenied):
                access.require(action)


@pytest.mark.parametrize("proposing_side", ["client", "provider"])
@pytest.mark.parametrize("status,relation,role,allowed", ROWS)
def test_querysets_agree_with_access_row_by_row(
    world, proposing_side, status, relation, role, allowed
):
    engagement, user, _side = _case(world, proposing_side, status, relation, role)
    sla = SLAFactory(engagement=engagement)
    engagements = {
        "read": Engagement.objects.visible_to(user),
        "write": Engagement.objects.writable_by(user),
        "administer": Engagement.objects.administered_by(user),
    }
    for action, queryset in engagements.items():
        assert queryset.filter(pk=engagement.pk).exists() == allowed[action], action
        restricted = Engagement.objects.restrict(user, action)
        assert restricted.filter(pk=engagement.pk).exists() == allowed[action], action
        assert SLA.objects.restrict(user, action).filter(pk=sla.pk).exists() == allowed[action]
    assert sla.access_for(user) == engagement.access_for(user)
