from django.db import models


class Order(models.Model):
    """A model of the project's own, with a custom permission beside Django's four."""

    number = models.CharField(max_length=20)

    class Meta:
        permissions = [("refund_order", "Can refund an order")]
