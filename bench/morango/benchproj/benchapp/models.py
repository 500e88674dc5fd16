"""The one syncable model of the baseline, shaped like Kolibri's attempt log.

Partitioning follows Kolibri: every record carries its facility ("dataset") id,
which is the id of the server's root certificate, and a per-learner partition
``<dataset_id>:user-rw:<learner>``.  A full-facility certificate
(filter ``<dataset_id>``) covers every learner; a class is a set of learner
partitions.
"""
import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models

from morango.models.core import SyncableModel
from morango.models.fields.uuids import UUIDField


class BenchUserManager(BaseUserManager):
    def create_superuser(self, username, password):
        user = self.model(username=username, is_superuser=True)
        user.set_password(password)
        user.save()
        return user


class BenchUser(AbstractBaseUser):
    """Plain (not synced) account used to authorise certificate signing requests."""

    USERNAME_FIELD = "username"
    username = models.CharField(max_length=64, unique=True)
    is_superuser = models.BooleanField(default=False)

    objects = BenchUserManager()

    def has_morango_certificate_scope_permission(self, scope_definition_id, scope_params):
        # morango's CertificatePermissions asks the authenticated user this before
        # the server signs a certificate for a client
        return self.is_superuser


class AttemptLog(SyncableModel):
    morango_profile = "facilitydata"
    morango_model_name = "attemptlog"

    dataset_id = UUIDField(db_index=True)
    learner = models.CharField(max_length=64)
    attempt = UUIDField()
    question = models.CharField(max_length=200)
    answer = models.TextField()  # JSON text
    correct = models.BooleanField()
    score = models.FloatField()
    created = models.DateTimeField()

    def calculate_source_id(self):
        # None -> morango uses a random source id (like Kolibri's attempt logs)
        return None

    def calculate_partition(self):
        return "{}:user-rw:{}".format(self.dataset_id, self.learner)

    @staticmethod
    def compute_namespaced_id(partition_value, source_id_value, model_name):
        # Keep the record's own id (the source id) as its primary key so that the
        # morango baseline and our own sync store identical ids for identical input.
        return source_id_value

    def set_record_id(self, record_id=None):
        """Give the model its id/partition without save() (for bulk_create)."""
        self._morango_source_id = uuid.UUID(str(record_id)).hex if record_id else uuid.uuid4().hex
        self.id = self.calculate_uuid()
        return self
