"""What the rules read: the mapping, with each object's SCIM paths resolved once.

``check`` builds one :class:`Analysis` and hands it to every rule, so a path is resolved once
however many rules look at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapper.checks.scimpaths import PathProblem, Resolved, Schemas, custom_schemas, resolve, schemas_of
from mapper.language.model import AttributeMapping, MappingFile, MultiValued, ObjectType

Resolution = Resolved | PathProblem


@dataclass(frozen=True)
class ObjectPaths:
    """One object, the schemas its paths may name, and its attribute map and multi blocks resolved."""

    obj: ObjectType
    schemas: Schemas
    attributes: tuple[tuple[AttributeMapping, Resolution], ...]
    multi: tuple[tuple[MultiValued, Resolution], ...]

    def resolve(self, path: str) -> Resolution:
        return resolve(path, self.schemas)

    def imported(self) -> list[Resolved]:
        """The resolved paths mapped for import (``<-`` or ``<->``)."""
        return [r for m, r in self.attributes if isinstance(r, Resolved) and m.direction != "export"]

    def is_mapped(self, resolved: Resolved) -> bool:
        return any(isinstance(r, Resolved) and r.key == resolved.key for _, r in self.attributes)


@dataclass(frozen=True)
class Analysis:
    mapping: MappingFile
    objects: tuple[ObjectPaths, ...]

    @property
    def file(self) -> str:
        return self.mapping.path


def analyze(mapping: MappingFile) -> Analysis:
    custom = custom_schemas(mapping)
    objects = []
    for obj in mapping.objects:
        schemas = schemas_of(obj, custom)
        objects.append(
            ObjectPaths(
                obj=obj,
                schemas=schemas,
                attributes=tuple((m, resolve(m.path.value, schemas)) for m in obj.attributes),
                multi=tuple((m, resolve(m.attribute.value, schemas)) for m in obj.multi),
            )
        )
    return Analysis(mapping=mapping, objects=tuple(objects))
