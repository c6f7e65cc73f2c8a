"""GenerateImages (a Map over the segments, each a child execution): SubmitImage, then CheckImage
after each wait, until the segment's image is stored. Segment 0's image is the reference the
others are made from (Runway referenceImages), so the ten pictures stay consistent: until it
exists the others are "blocked" (their child ends, freeing its slot) and the Map makes them
on its next pass."""

from __future__ import annotations

from videobot import media, storage
from videobot.data import segments
from videobot.data.rows import Job, Segment
from videobot.errors import VendorFailed
from videobot.lifecycle import save_media
from videobot.pipeline import IMAGE, REFERENCE_SEGMENT
from videobot.providers.base import ImageGenerator, ImageRequest
from videobot.runtime import Runtime
from videobot.stages.common import required
from videobot.stages.vendor_tasks import JobRow, VendorTask


class Images(VendorTask):
    media = IMAGE

    def generator(self, rt: Runtime) -> ImageGenerator:
        return rt.images

    def request(self, rt: Runtime, job: Job, seg: Segment) -> ImageRequest | None:
        reference = None
        if seg.segment_index != REFERENCE_SEGMENT:
            ref = segments.get_segment(rt.db, job.id, REFERENCE_SEGMENT)
            if not ref.image_path:
                return None  # blocked until segment 0's image is made
            reference = rt.storage.url(ref.image_path)
        return ImageRequest(
            prompt=required(seg.image_prompt, "an image prompt"),
            ratio=job.aspect_ratio,
            seed=seg.segment_index,
            reference_image_url=reference,
        )

    def planned_request(self, rt: Runtime, job: Job, seg: Segment) -> ImageRequest:
        # segments 1-9 are made from segment 0's image (the reference model)
        reference = None if seg.segment_index == REFERENCE_SEGMENT else "reference"
        return ImageRequest(prompt="", ratio=job.aspect_ratio, seed=seg.segment_index, reference_image_url=reference)

    def store(self, rt: Runtime, job: JobRow, seg: Segment, data: bytes) -> Segment:
        ext = media.image_type(data)
        if ext is None:
            raise VendorFailed("the image vendor returned something that is not an image")
        key = save_media(rt, job.id, storage.segment_key(job.id, IMAGE.folder, seg.segment_index, ext), data)
        return segments.store_media(rt.db, job.id, seg.segment_index, IMAGE, key)


IMAGES = Images()
submit_image, check_image = IMAGES.submit, IMAGES.check  # SubmitImage, CheckImage
