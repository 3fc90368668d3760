"""{{ user|person }}: a person as every page shows them (relationships.people)."""

from django import template

from relationships.people import person_name

register = template.Library()


@register.filter
def person(user) -> str:
    return person_name(user)
