"""Photos of a report: upload (multipart), stripped of metadata before storage; list."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.roles import Role
from common.views import StrictQueryParamsMixin
from incidents.attachments import (
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    UploadRateExceeded,
    _too_large,
    attachment_add,
)
from incidents.models import Attachment, Incident
from sealing.payloads import SealedUploadTooLarge, upload_payload
from sealing.serializers import SealedUploadFieldsSerializer


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(
        help_text="Where the photo itself is served (incidents.photo_views): to the reporter who "
        "sent it, analysts and admins, with the same session or key; every read is audited."
    )

    class Meta:
        model = Attachment
        fields = ("id", "content_type", "width", "height", "size_bytes", "created_at", "url")
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        path = reverse("attachment-file", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AttachmentUploadSerializer(SealedUploadFieldsSerializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the service refuses it, with the same message as elsewhere
        help_text=(
            f"A JPEG, PNG or WebP photo of at most {MAX_UPLOAD_BYTES // 2**20} MB and "
            f"{MAX_PIXELS // 1_000_000} megapixels. EXIF, GPS and other metadata are removed "
            "before the photo is stored."
        ),
    )


@extend_schema(tags=["incidents"])
class IncidentAttachmentsView(StrictQueryParamsMixin, generics.ListCreateAPIView):
    """The photos of one report. Reporters may add photos to their own reports only; analysts
    and admins to any. Sending the same photo again returns the earlier attachment (200)."""

    queryset = Attachment.objects.none()  # for the schema; get_queryset() reads the report's
    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser]
    pagination_class = None
    read_roles = frozenset({Role.REPORTER, Role.ANALYST, Role.ADMIN})
    exact_locations = False  # photo metadata (the file itself: incidents.photo_views)
    write_roles = frozenset({Role.REPORTER, Role.ANALYST, Role.ADMIN})

    def get_incident(self) -> Incident:
        # visible_to: reporters reach their own reports only, others get 404 (not 403, which
        # would confirm the report exists).
        return generics.get_object_or_404(
            Incident.objects.visible_to(self.request.user), client_uuid=self.kwargs["id"]
        )

    def get_queryset(self):
        return self.get_incident().attachments.all()

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer,
            200: OpenApiResponse(AttachmentSerializer, description="This photo was already here."),
            400: OpenApiResponse(description="Not a JPEG, PNG or WebP photo, or too large."),
            429: OpenApiResponse(description="Too many photos from this user in the hour."),
        },
    )
    def post(self, request, *args, **kwargs):
        incident = self.get_incident()
        try:
            # A photo sealed on the phone is decrypted here and then checked like any other.
            data = upload_payload(
                request, client_uuid=incident.client_uuid, max_bytes=MAX_UPLOAD_BYTES
            )
        except SealedUploadTooLarge:
            raise _too_large() from None
        upload = AttachmentUploadSerializer(data=data)
        if not upload.is_valid():
            raise ValidationError(upload.errors)
        try:
            result = attachment_add(
                incident=incident, upload=upload.validated_data["file"], uploader=request.user
            )
        except UploadRateExceeded as exc:
            # Named after the field like every other refusal; 429 tells the phone's outbox to
            # keep the photo and send it later.
            return Response(
                {"file": [exc.message]},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(exc.retry_after)},
            )
        return Response(
            AttachmentSerializer(result.attachment).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
