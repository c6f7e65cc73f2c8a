"""The pipeline's stages, one module per state (or pair of states) of
statemachine/video_pipeline.asl.json, named like the state and its function folder:

| state(s)                             | module                    | function folder          |
|--------------------------------------|---------------------------|--------------------------|
| GenerateScript                       | generate_script           | generate_script          |
| AwaitScript/Image/VideoApproval      | request_approval          | request_approval         |
| AwaitRefusedImage, AwaitRefusedClip  | request_approval          | request_approval         |
| ReviseScript, RedoImages, RedoClips  | revise_stage              | revise_stage             |
| ResolveRefusedImage/Clip             | revise_stage              | revise_stage             |
| SplitIntoSegments                    | split_into_segments       | split_into_segments      |
| WriteImagePrompts                    | write_image_prompts       | write_image_prompts      |
| GenerateImages: SubmitImage, CheckImage | generate_images        | submit_image, check_image |
| WriteAnimationPrompts                | write_animation_prompts   | write_animation_prompts  |
| AnimateClips: SubmitClip, CheckClip  | animate_clips             | submit_clip, check_clip  |
| RecordVoiceover                      | record_voiceover          | record_voiceover         |
| AssembleVideo                        | assemble_video            | assemble_video           |
| DeliverVideo                         | deliver_video             | deliver_video            |
| CancelJob, RecordApprovalTimeout, RecordFailure | videobot.lifecycle | cancel_job, record_approval_timeout, |
|                                      |                           | record_failure           |

Every stage takes the runtime (videobot.runtime) and ids, reads and writes PostgreSQL and
storage, and returns a small dict. Each is idempotent: a retried invocation finds its earlier
work in the rows and does not call a vendor (or send a message) again."""
