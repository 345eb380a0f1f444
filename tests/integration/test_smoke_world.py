"""The shared world builder reaches every active state on both databases."""

from lifecycle.models import Member


def test_r2_4_a_member_walked_to_implementation_has_a_plan_in_force(world):
    m = world.implementing()
    with world.session() as s:
        member = s.get(Member, m)
        assert member.state == "implementing"
        assert member.current_plan.status == "in_force"
        assert len(member.current_plan.commitments) == 3
