"""Every text the bot shows, in one catalogue: Russian (the seed's texts) by default, English
when the user's language_code starts with "en". Messages are sent without a parse mode, so a
user's underscores and asterisks can never break them."""

from __future__ import annotations

BTN_STATUS = "📊 Статус"
BTN_APPROVE = "✅ Подтвердить"
BTN_REJECT = "❌ Отклонить"
BTN_START = "🔄 Старт"

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

RU = {
    "welcome": (
        "👋 Привет, {name}!\n\n"
        "Я делаю 50-секундные видеоролики по вашему описанию: сценарий, 10 изображений, "
        "10 анимированных клипов, озвучка и монтаж.\n\n"
        "Этапы (три из них вы утверждаете):\n"
        "1. 📝 Сценарий — утверждение\n"
        "2. 🖼 10 изображений — утверждение\n"
        "3. 🎞 10 клипов — утверждение\n"
        "4. 🎙 Озвучка и 🎬 сборка ролика\n\n"
        "⏱ Обычно это занимает 15-20 минут.\n\n"
        "Кнопки:\n"
        "📊 Статус — показывает текущий прогресс\n"
        "✅ Подтвердить — утверждает текущий этап\n"
        "❌ Отклонить — отменяет задачу и очищает данные\n"
        "🔄 Старт — показывает это приветствие\n\n"
        "✍️ Отправьте описание ролика, например: Реклама кофе"
    ),
    "help": (
        "ℹ️ Как пользоваться ботом\n\n"
        "Отправьте описание ролика обычным сообщением (до {max_chars} символов).\n"
        "Я пришлю сценарий, затем изображения и клипы — каждый этап нужно утвердить "
        "(✅ Подтвердить) или отменить (❌ Отклонить). На ответ есть {minutes} мин.\n\n"
        "/start — приветствие\n/status — прогресс текущей задачи\n/settings — формат, голос, язык, субтитры\n"
        "/history — последние задачи\n/help — эта справка\n\n🎙 Описание можно надиктовать голосовым сообщением."
    ),
    "accepted": (
        "✅ Запрос принят! ID: {job_id}\n\n"
        "💰 Примерная стоимость: ≈ ${usd}\n"
        "⏱ Ролик будет готов примерно через 15-20 минут.\n"
        "📊 Статус — посмотреть прогресс\n"
        "✅ Подтвердить — утвердить текущий этап\n"
        "❌ Отклонить — отменить задачу"
    ),
    "busy": (
        "⏳ У вас уже есть задача в работе (ID: {job_id}, статус: {status}).\n"
        "Дождитесь её окончания или нажмите ❌ Отклонить, чтобы отменить её и начать новую."
    ),
    "daily_budget": (
        "⛔ За последние сутки ваши ролики стоили ${spent}, а дневной бюджет — ${budget}. "
        "Новый ролик стоит ≈ ${estimate}, и он в бюджет не помещается.\n"
        "Новый ролик можно будет заказать, когда расходы за 24 часа станут меньше ${room}."
    ),
    "bot_budget": (
        "⛔ За последние сутки ролики всех пользователей бота стоили ${spent}, а общий дневной бюджет "
        "бота — ${budget}. Новый ролик стоит ≈ ${estimate}, и он в бюджет не помещается. "
        "Попробуйте позже."
    ),
    "daily_limit": (
        "⛔ За сутки можно заказать не больше {limit} роликов, и этот лимит исчерпан.\n"
        "Следующий можно будет заказать после {time} UTC."
    ),
    "script_ready": (
        "📝 Сценарий готов!\n\n{script}\n\n💬 Чтобы изменить сценарий, просто напишите, "
        "что поменять, — я перепишу его и спрошу снова."
    ),
    "images_ready": (
        "🖼 Изображения готовы ({above}). Выберите действие:\n"
        "💬 Или напишите «переделай 3» (можно несколько номеров и пожелание), чтобы сделать их заново, "
        "или просто напишите, что изменить во всех."
    ),
    "videos_ready": (
        "🎞 Клипы готовы (10 шт.), выше {above}. Выберите действие:\n"
        "💬 «покажи 7» пришлёт любой клип; «переделай 3» (можно несколько номеров и пожелание) "
        "сделает его заново; или просто напишите, что изменить во всех."
    ),
    "images_above_all": "10 шт.",
    "images_above_redone": "выше заново: {what}",
    "videos_above_first": "первые {what}",
    "videos_above_redone": "заново: {what}",
    "images_album_caption": "🖼 Изображения для ролика «{topic}»",
    "approved_script": "✅ Сценарий утверждён! Начинаю генерацию...",
    "approved_images": "✅ Изображения утверждены! Анимирую клипы...",
    "approved_videos": "✅ Клипы утверждены! Собираю ролик...{voiceover}",
    "cb_approved": "✅ Утверждено",
    "cb_rejected": "❌ Отклоняю задачу...",
    "already_decided": "Этот этап уже {decision}. Повторное нажатие ничего не меняет.",
    "decision_approved": "утверждён",
    "decision_rejected": "отклонён",
    "decision_timed_out": "закрыт: время на ответ истекло",
    "decision_abandoned": "закрыт",
    "not_at_this_stage": "Эта кнопка устарела: задача сейчас не ждёт решения на этом этапе.",
    "job_over": "Эта задача уже завершена (статус: {status}). Кнопка больше не действует.",
    "older_job": "Эта кнопка от предыдущей задачи. Действует только последняя: {job_id}.",
    "expired": "⌛ Время на подтверждение истекло, задача остановлена.",
    "nothing_to_approve": "Сейчас нечего подтверждать. 📊 Статус покажет, что происходит.",
    "nothing_to_reject": "Нет активной задачи, которую можно отменить.",
    "no_job": "У вас пока нет задач. Отправьте описание ролика, чтобы начать.",
    "cancelled": (
        "❌ Задача {job_id} отменена{where}. Сценарий, изображения, клипы и озвучка удалены; "
        "в /history осталась только тема."
    ),
    "cancelled_at": " на этапе «{stage}»",
    "timed_out": (
        "⌛ Вы не ответили на этапе «{stage}» вовремя, поэтому задача {job_id} остановлена. "
        "Отправьте описание снова, чтобы начать заново."
    ),
    "failed_refused": (
        "🚫 Сервис генерации отказался создавать материал для этого описания "
        "(модерация). Задача {job_id} остановлена. Попробуйте сформулировать тему иначе."
    ),
    "failed_outage": (
        "⚠️ Сервис генерации сейчас недоступен, задача {job_id} остановлена. Попробуйте ещё раз чуть позже."
    ),
    "failed_generic": "⚠️ Не удалось сделать ролик: задача {job_id} остановлена из-за ошибки. Попробуйте ещё раз.",
    "video_caption": "🎬 Ваш ролик готов!\n⏱ Создан за {minutes} мин. • 📦 {size_mb} МБ • {duration} сек",
    "video_too_big": (
        "🎬 Ролик готов, но он весит {size_mb} МБ, а Telegram принимает от ботов не больше "
        "{limit_mb} МБ. Задача {job_id}."
    ),
    "not_allowed": "🔒 Извините, этот бот работает только для приглашённых пользователей.",
    "private_only": "Я работаю только в личных сообщениях. Напишите мне напрямую.",
    "empty_topic": "Описание пустое. Напишите, о чём должен быть ролик, например: Реклама кофе",
    "topic_too_long": "Описание слишком длинное ({length} символов). Уложитесь в {max_chars}.",
    "unsupported_message": "Я понимаю только текст: напишите описание ролика сообщением.",
    "voice_unsupported": "Видеосообщения не поддерживаются. Напишите описание текстом или надиктуйте голосовым.",
    "edited_ignored": "Изменения сообщений не учитываются. Отправьте описание новым сообщением.",
    "unknown_command": "Неизвестная команда. /help — список команд.",
    "unknown_button": "Неизвестная кнопка.",
    "error": "⚠️ Что-то пошло не так. Попробуйте ещё раз через минуту.",
    # Status
    "status_title": "📊 Статус задачи",
    "status_id": "🆔 ID: {job_id}",
    "status_status": "📊 Статус: {status}",
    "status_prompt": "💬 Описание: {prompt}",
    "status_script": "{icon} Сценарий: {state}",
    "status_segments": "📊 Сегменты ({count} шт.):",
    "status_image_prompts": "• Промпты для изображений: {n}/{total}",
    "status_images": "• Изображения: {n}/{total}",
    "status_animation_prompts": "• Промпты для анимации: {n}/{total}",
    "status_videos": "• Видео: {n}/{total}",
    "status_audio": "🎙 Озвучка: {duration} сек",
    "status_audio_none": "🎙 Озвучка: ещё нет",
    "status_video": "🎬 Финальное видео: {size_mb} МБ, {duration} сек",
    "status_video_none": "🎬 Финальное видео: ещё нет",
    "status_created": "🕐 Создана: {at}",
    "status_completed": "🏁 Завершена: {at}",
    "status_error": "⚠️ Причина: {error}",
    "script_waiting": "ожидание",
    "script_generated": "сгенерирован, ждёт утверждения",
    "script_approved": "утверждён",
    "script_rejected": "отклонён",
    "stage_script": "сценарий",
    "stage_images": "изображения",
    "stage_videos": "клипы",
}

STATUS_RU = {
    "pending": "В очереди",
    "generating_script": "Пишу сценарий",
    "awaiting_script_approval": "Ожидает утверждения сценария",
    "script_approved": "Сценарий утверждён",
    "generating_images": "Генерирую изображения",
    "awaiting_image_approval": "Ожидает утверждения изображений",
    "images_approved": "Изображения утверждены",
    "generating_videos": "Анимирую клипы",
    "awaiting_video_approval": "Ожидает утверждения видео",
    "videos_approved": "Видео утверждены",
    "assembling": "Собираю ролик",
    "delivering": "Отправляю ролик",
    "completed": "Завершено",
    "cancelled": "Отменено",
    "failed": "Ошибка",
    "timed_out": "Время ожидания истекло",
}

EN = {
    "welcome": (
        "👋 Hi, {name}!\n\n"
        "I make 50-second videos from your description: a script, 10 images, 10 animated clips, "
        "a voice-over and the final edit.\n\n"
        "Stages (you approve three of them):\n"
        "1. 📝 Script — approval\n2. 🖼 10 images — approval\n3. 🎞 10 clips — approval\n"
        "4. 🎙 Voice-over and 🎬 assembly\n\n"
        "⏱ It usually takes 15-20 minutes.\n\n"
        "Buttons:\n📊 Статус — shows the progress\n✅ Подтвердить — approves the current stage\n"
        "❌ Отклонить — cancels the job and clears its data\n🔄 Старт — shows this greeting\n\n"
        "✍️ Send a description, for example: Coffee commercial"
    ),
    "help": (
        "ℹ️ How to use the bot\n\n"
        "Send a description of the video as a plain message (up to {max_chars} characters).\n"
        "I will send the script, then the images and the clips; approve each stage (✅) or cancel "
        "(❌). You have {minutes} min to answer.\n\n"
        "/start — greeting\n/status — progress of the current job\n/settings — format, voice, language, subtitles\n"
        "/history — your latest jobs\n/help — this help\n\n🎙 You can also say the description in a voice message."
    ),
    "accepted": (
        "✅ Request accepted! ID: {job_id}\n\n💰 Estimated cost: ≈ ${usd}\n"
        "⏱ The video will be ready in about 15-20 minutes.\n"
        "📊 Статус — see the progress\n✅ Подтвердить — approve the current stage\n❌ Отклонить — cancel the job"
    ),
    "busy": (
        "⏳ You already have a job running (ID: {job_id}, status: {status}).\n"
        "Wait for it to finish, or press ❌ Отклонить to cancel it and start a new one."
    ),
    "daily_budget": (
        "⛔ Your videos of the last 24 hours cost ${spent}, and the daily budget is ${budget}. "
        "A new video costs ≈ ${estimate}, which does not fit.\n"
        "You can order a new one when the last 24 hours cost less than ${room}."
    ),
    "bot_budget": (
        "⛔ All users' videos of the last 24 hours cost ${spent}, and the bot's daily budget is "
        "${budget}. A new video costs ≈ ${estimate}, which does not fit. Please try later."
    ),
    "daily_limit": (
        "⛔ You can order at most {limit} videos in 24 hours, and the limit is used up.\n"
        "You can order the next one after {time} UTC."
    ),
    "script_ready": (
        "📝 The script is ready!\n\n{script}\n\n💬 To change it, just write what to change: "
        "I will rewrite it and ask again."
    ),
    "images_ready": (
        "🖼 The images are ready ({above}). Choose an action:\n"
        "💬 Or write “redo 3” (several numbers and a wish are fine) to make them again, "
        "or just write what to change in all of them."
    ),
    "videos_ready": (
        "🎞 The clips are ready (10), above: {above}. Choose an action:\n"
        "💬 “show 7” sends any clip; “redo 3” (several numbers and a wish are fine) makes it again; "
        "or just write what to change in all of them."
    ),
    "images_above_all": "10",
    "images_above_redone": "above, made again: {what}",
    "videos_above_first": "the first {what}",
    "videos_above_redone": "made again: {what}",
    "images_album_caption": "🖼 Images for “{topic}”",
    "approved_script": "✅ Script approved! Starting the generation...",
    "approved_images": "✅ Images approved! Animating the clips...",
    "approved_videos": "✅ Clips approved! Assembling the video...{voiceover}",
    "cb_approved": "✅ Approved",
    "cb_rejected": "❌ Cancelling the job...",
    "already_decided": "This stage is already {decision}. Tapping again changes nothing.",
    "decision_approved": "approved",
    "decision_rejected": "rejected",
    "decision_timed_out": "closed: the time to answer ran out",
    "decision_abandoned": "closed",
    "not_at_this_stage": "This button is out of date: the job is not waiting for a decision at this stage.",
    "job_over": "This job is already over (status: {status}). The button no longer works.",
    "older_job": "This button belongs to an earlier job. Only the latest one counts: {job_id}.",
    "expired": "⌛ The time to approve ran out, the job has stopped.",
    "nothing_to_approve": "There is nothing to approve right now. 📊 Статус shows what is going on.",
    "nothing_to_reject": "There is no active job to cancel.",
    "no_job": "You have no jobs yet. Send a description to start one.",
    "cancelled": (
        "❌ Job {job_id} is cancelled{where}. Its script, images, clips and narration are deleted; "
        "/history keeps only the topic."
    ),
    "cancelled_at": " at the “{stage}” stage",
    "timed_out": (
        "⌛ There was no answer at the “{stage}” stage in time, so job {job_id} has stopped. "
        "Send the description again to start over."
    ),
    "failed_refused": (
        "🚫 The generation service refused to make material for this description "
        "(moderation). Job {job_id} has stopped. Try wording the topic differently."
    ),
    "failed_outage": "⚠️ The generation service is unavailable right now, job {job_id} has stopped. Try again later.",
    "failed_generic": "⚠️ The video could not be made: job {job_id} stopped because of an error. Please try again.",
    "video_caption": "🎬 Your video is ready!\n⏱ Made in {minutes} min • 📦 {size_mb} MB • {duration} s",
    "video_too_big": (
        "🎬 The video is ready, but it is {size_mb} MB and Telegram accepts at most {limit_mb} MB "
        "from bots. Job {job_id}."
    ),
    "not_allowed": "🔒 Sorry, this bot is for invited users only.",
    "private_only": "I only work in private chats. Message me directly.",
    "empty_topic": "The description is empty. Write what the video should be about, e.g. Coffee commercial",
    "topic_too_long": "The description is too long ({length} characters). Keep it within {max_chars}.",
    "unsupported_message": "I only understand text: send the video's description as a message.",
    "voice_unsupported": "Video messages are not supported. Type the description or say it in a voice message.",
    "edited_ignored": "Edited messages are not used. Send the description as a new message.",
    "unknown_command": "Unknown command. /help lists the commands.",
    "unknown_button": "Unknown button.",
    "error": "⚠️ Something went wrong. Please try again in a minute.",
    "status_title": "📊 Job status",
    "status_id": "🆔 ID: {job_id}",
    "status_status": "📊 Status: {status}",
    "status_prompt": "💬 Description: {prompt}",
    "status_script": "{icon} Script: {state}",
    "status_segments": "📊 Segments ({count}):",
    "status_image_prompts": "• Image prompts: {n}/{total}",
    "status_images": "• Images: {n}/{total}",
    "status_animation_prompts": "• Animation prompts: {n}/{total}",
    "status_videos": "• Videos: {n}/{total}",
    "status_audio": "🎙 Voice-over: {duration} s",
    "status_audio_none": "🎙 Voice-over: not yet",
    "status_video": "🎬 Final video: {size_mb} MB, {duration} s",
    "status_video_none": "🎬 Final video: not yet",
    "status_created": "🕐 Created: {at}",
    "status_completed": "🏁 Completed: {at}",
    "status_error": "⚠️ Reason: {error}",
    "script_waiting": "waiting",
    "script_generated": "generated, waiting for approval",
    "script_approved": "approved",
    "script_rejected": "rejected",
    "stage_script": "script",
    "stage_images": "images",
    "stage_videos": "clips",
}

STATUS_EN = {
    "pending": "Queued",
    "generating_script": "Writing the script",
    "awaiting_script_approval": "Waiting for script approval",
    "script_approved": "Script approved",
    "generating_images": "Generating images",
    "awaiting_image_approval": "Waiting for image approval",
    "images_approved": "Images approved",
    "generating_videos": "Animating clips",
    "awaiting_video_approval": "Waiting for clip approval",
    "videos_approved": "Clips approved",
    "assembling": "Assembling the video",
    "delivering": "Sending the video",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "failed": "Failed",
    "timed_out": "Approval timed out",
}

# ---- Steering: voice topics, /settings, /history, cost ----
RU.update(
    {
        "voice_needs_key": (
            "🎙 Чтобы понимать голосовые сообщения, боту нужен ключ OpenAI (OPENAI_API_KEY), "
            "а он не настроен. Напишите описание текстом."
        ),
        "voice_too_big": "🎙 Голосовое сообщение слишком большое: бот может скачать не больше {limit_mb} МБ.",
        "voice_failed": "🎙 Не удалось распознать голосовое сообщение. Попробуйте ещё раз или напишите текстом.",
        "voice_empty": "🎙 В голосовом сообщении не удалось разобрать слов. Попробуйте ещё раз или напишите текстом.",
        "voice_heard": "🎙 Распознано: «{text}»",
        "cost_line": "💰 Стоимость: ≈ ${usd}",
        "cost_narration": " (из них озвучка ≈ ${usd})",
        "status_audio_recording": "🎙 Озвучка: {n}/{total}",
        "voiceover_done": "🎙 Озвучка уже готова: {total}/{total}.",
        "voiceover_at": "🎙 Озвучка: {n}/{total}, продолжаю.",
        "settings": (
            "⚙️ Настройки (для следующего ролика)\n\n"
            "📐 Формат: {ratio}\n🗣 Голос: {voice}\n🌐 Язык озвучки: {language}\n"
            "💬 Субтитры: {subtitles}{video}\n\n"
            "Ряды кнопок: формат, голос, язык, субтитры{video_row}."
        ),
        "settings_video": "\n🎬 Видеомодель: {model} (ролик 50 с ≈ ${usd})",
        "settings_video_row": ", видеомодель (цена ролика 50 с)",
        "settings_on": "вкл",
        "settings_off": "выкл",
        "settings_lang_auto": "авто",
        "settings_lang_ru": "русский",
        "settings_lang_en": "английский",
        "settings_saved": "✅ Сохранено: {value}",
        "settings_unavailable": "Этот вариант сейчас недоступен.",
        "history_title": "🗂 Ваши последние задачи:",
        "history_line": "{n}. {at} UTC · {prompt}\n   {status} · 💰 ≈ ${usd} · ID: {job_id}",
        "history_button": "🎬 {n}. {prompt}",
        "history_caption": "🎬 Ролик «{prompt}» ещё раз",
        "history_sent": "🎬 Отправляю ролик",
        "history_gone": "Этого ролика больше нет: он удалён или срок хранения истёк.",
        "decision_revised": "отправлен на доработку",
        "revising_script": "🔄 Переписываю сценарий по вашему отзыву (правка {n} из {limit}). Потрачено: ≈ ${usd}",
        "revising_images": (
            "🔄 Делаю заново изображения {numbers} (правка {n} из {limit}), остальные не трогаю. Потрачено: ≈ ${usd}"
        ),
        "revising_videos": (
            "🔄 Делаю заново клипы {numbers} (правка {n} из {limit}), остальные не трогаю. Потрачено: ≈ ${usd}"
        ),
        "revise_limit": "На этом этапе уже {limit} правок, больше нельзя. ✅ Подтвердите или ❌ отклоните.",
        "redo_hint": (
            "Чтобы переделать {what}, напишите номера от 1 до {count}, например: «переделай 3» "
            "или «redo 3 5 светлее». Или ✅ Подтвердите / ❌ Отклоните."
        ),
        "script_feedback_hint": "Напишите словами, что изменить в сценарии, или ✅ Подтвердите / ❌ Отклоните.",
        "all_ten": "все 10",
        "redo_all_offer": (
            "🔁 Переделать все {what} с пожеланием «{words}»? Это будет стоить ≈ ${usd}.\n"
            "Или назовите номера: «переделай 3 5 …»."
        ),
        "btn_redo_all": "🔁 Переделать все (≈ ${usd})",
        "btn_redo_cancel": "Отмена",
        "cb_redo_all": "🔁 Переделываю все",
        "redo_all_declined": "Хорошо, ничего не переделываю.",
        "offer_stale": "Это предложение устарело: этап уже решён или изменился.",
        "stale_round": "Эта кнопка от прежней версии. Ответьте на последний вопрос ниже.",
        "show_hint": "Напишите номер от 1 до {count}, например: «покажи 7».",
        "show_missing": "Сегмента {n} пока нет.",
        "segment_image": "🖼 Изображение {numbers} из {total}",
        "segment_images": "🖼 Изображения {numbers} из {total}",
        "segment_clip": "🎞 Клип {numbers} из {total}",
        "segment_clips": "🎞 Клипы {numbers} из {total}",
        "first_clips": "🎞 Первые {what} из {total}",
        "segment_refused": (
            "🚫 Сервис генерации отказался делать {what} из {total} (модерация: {code}).\n"
            "Промпт: «{prompt}»\n\n"
            "✍️ Напишите новый промпт для этого сегмента: остальные не переделываются. "
            "Или повторите как есть, или отмените задачу."
        ),
        "refused_blocks": "⏸ Это образец для изображений {numbers}: они ждут вашего ответа.",
        "refused_waits_one": "⏸ Остальные готовы ({ready} из {total}): вашего ответа ждёт только {what}.",
        "refused_waits_many": "⏸ Готово {ready} из {total}: вашего ответа ждут {what}.",
        "btn_refusal_retry": "🔁 Повторить",
        "btn_refusal_cancel": "❌ Отменить задачу",
        "refusal_new_prompt": "✍️ Новый промпт для сегмента {n} принят, делаю его заново (попытка {round} из {limit}).",
        "refusal_retrying": "🔁 Пробую сегмент {n} ещё раз (попытка {round} из {limit}).",
        "cb_refusal_retry": "🔁 Пробую ещё раз",
        "stage_refused": "отказ по сегменту {n}",
        "vendor_queued": (
            "⏳ {what}: в очереди у Runway. Тариф Runway запускает 1-2 генерации одновременно, "
            "остальные ждут своей очереди; это время не тратится впустую и не оплачивается."
        ),
        "vendor_queued_images": "Изображения",
        "vendor_queued_videos": "Клипы",
        "progress_queued": " · ⏳ в очереди у Runway: {n}",
    }
)
EN.update(
    {
        "voice_needs_key": (
            "🎙 To understand voice messages the bot needs an OpenAI key (OPENAI_API_KEY), "
            "and none is configured. Please type the description."
        ),
        "voice_too_big": "🎙 The voice message is too big: the bot can download at most {limit_mb} MB.",
        "voice_failed": "🎙 The voice message could not be transcribed. Try again or type the description.",
        "voice_empty": "🎙 No words could be made out in the voice message. Try again or type the description.",
        "voice_heard": "🎙 Heard: “{text}”",
        "cost_line": "💰 Cost: ≈ ${usd}",
        "cost_narration": " (the narration ≈ ${usd} of it)",
        "status_audio_recording": "🎙 Voice-over: {n}/{total}",
        "voiceover_done": "🎙 The voice-over is ready already: {total}/{total}.",
        "voiceover_at": "🎙 Voice-over: {n}/{total}, carrying on.",
        "settings": (
            "⚙️ Settings (for your next video)\n\n"
            "📐 Format: {ratio}\n🗣 Voice: {voice}\n🌐 Narration language: {language}\n"
            "💬 Subtitles: {subtitles}{video}\n\n"
            "Button rows: format, voice, language, subtitles{video_row}."
        ),
        "settings_video": "\n🎬 Video model: {model} (a 50 s video ≈ ${usd})",
        "settings_video_row": ", video model (the price of a 50 s video)",
        "settings_on": "on",
        "settings_off": "off",
        "settings_lang_auto": "auto",
        "settings_lang_ru": "Russian",
        "settings_lang_en": "English",
        "settings_saved": "✅ Saved: {value}",
        "settings_unavailable": "This option is not available right now.",
        "history_title": "🗂 Your latest jobs:",
        "history_line": "{n}. {at} UTC · {prompt}\n   {status} · 💰 ≈ ${usd} · ID: {job_id}",
        "history_button": "🎬 {n}. {prompt}",
        "history_caption": "🎬 “{prompt}” once more",
        "history_sent": "🎬 Sending the video",
        "history_gone": "This video is no longer available: it was deleted or its storage time ran out.",
        "decision_revised": "sent back for a revision",
        "revising_script": "🔄 Rewriting the script with your feedback (revision {n} of {limit}). Spent: ≈ ${usd}",
        "revising_images": (
            "🔄 Making images {numbers} again (revision {n} of {limit}), keeping the rest. Spent: ≈ ${usd}"
        ),
        "revising_videos": (
            "🔄 Making clips {numbers} again (revision {n} of {limit}), keeping the rest. Spent: ≈ ${usd}"
        ),
        "revise_limit": "This stage already had {limit} revisions; no more. ✅ Approve or ❌ reject.",
        "redo_hint": (
            "To redo {what}, write numbers from 1 to {count}, e.g. “redo 3” or “redo 3 5 brighter”. "
            "Or ✅ approve / ❌ reject."
        ),
        "script_feedback_hint": "Write in words what to change in the script, or ✅ approve / ❌ reject.",
        "all_ten": "all 10",
        "redo_all_offer": (
            "🔁 Redo all {what} with “{words}”? That costs ≈ ${usd}.\nOr name the numbers: “redo 3 5 …”."
        ),
        "btn_redo_all": "🔁 Redo all (≈ ${usd})",
        "btn_redo_cancel": "Cancel",
        "cb_redo_all": "🔁 Redoing all",
        "redo_all_declined": "All right, nothing is redone.",
        "offer_stale": "This offer is out of date: the stage was decided or has changed.",
        "stale_round": "This button is from an earlier version. Answer the latest question below.",
        "show_hint": "Write a number from 1 to {count}, e.g. “show 7”.",
        "show_missing": "Segment {n} is not there yet.",
        "segment_image": "🖼 Image {numbers} of {total}",
        "segment_images": "🖼 Images {numbers} of {total}",
        "segment_clip": "🎞 Clip {numbers} of {total}",
        "segment_clips": "🎞 Clips {numbers} of {total}",
        "first_clips": "🎞 The first {what} of {total}",
        "segment_refused": (
            "🚫 The generation service refused to make {what} of {total} (moderation: {code}).\n"
            "Prompt: “{prompt}”\n\n"
            "✍️ Write a new prompt for this segment: the others are not made again. "
            "Or retry it as it is, or cancel the job."
        ),
        "refused_blocks": "⏸ This is the reference for images {numbers}: they wait for your answer.",
        "refused_waits_one": "⏸ The others are ready ({ready} of {total}): only {what} waits for your answer.",
        "refused_waits_many": "⏸ {ready} of {total} are ready: {what} wait for your answer.",
        "btn_refusal_retry": "🔁 Retry",
        "btn_refusal_cancel": "❌ Cancel the job",
        "refusal_new_prompt": "✍️ New prompt for segment {n} taken, making it again (attempt {round} of {limit}).",
        "refusal_retrying": "🔁 Trying segment {n} again (attempt {round} of {limit}).",
        "cb_refusal_retry": "🔁 Trying again",
        "stage_refused": "refused segment {n}",
        "vendor_queued": (
            "⏳ {what}: queued at Runway. Runway's tier runs 1-2 generations at once and the rest "
            "wait their turn; the wait is not billed."
        ),
        "vendor_queued_images": "Images",
        "vendor_queued_videos": "Clips",
        "progress_queued": " · ⏳ queued at Runway: {n}",
    }
)

# ---- Reliability: a slow button, a start that failed ----
RU.update(
    {
        "callback_working": "⏳ Принято, выполняю…",
        "start_failed": (
            "⚠️ Не удалось запустить задачу: сервис сейчас недоступен. Ничего не списано, "
            "задача не создана. Отправьте описание ещё раз через минуту."
        ),
    }
)
EN.update(
    {
        "callback_working": "⏳ Got it, working on it…",
        "start_failed": (
            "⚠️ The job could not be started: the service is unavailable right now. Nothing was "
            "charged and no job was created. Send the description again in a minute."
        ),
    }
)

CATALOGUE = {"ru": RU, "en": EN}
STATUS_NAMES = {"ru": STATUS_RU, "en": STATUS_EN}


def language_of(language_code: str | None) -> str:
    return "en" if (language_code or "").lower().startswith("en") else "ru"


def text(lang: str, key: str, **values) -> str:
    return CATALOGUE.get(lang, RU)[key].format(**values)


# Plural forms: Russian one / few / many (1 клип, 3 клипа, 5 клипов, 11 клипов, 21 клип).
NOUNS: dict[str, dict[str, tuple[str, ...]]] = {
    "ru": {
        "clip": ("клип", "клипа", "клипов"),
        "image": ("изображение", "изображения", "изображений"),
        "segment": ("сегмент", "сегмента", "сегментов"),
    },
    "en": {"clip": ("clip", "clips"), "image": ("image", "images"), "segment": ("segment", "segments")},
}


def plural(lang: str, noun: str, n: int) -> str:
    if lang == "en":
        one, many = NOUNS["en"][noun]
        return one if n == 1 else many
    one, few, many = NOUNS["ru"][noun]
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def counted(lang: str, noun: str, n: int) -> str:
    """ "3 клипа", "5 изображений", "1 clip"."""
    return f"{n} {plural(lang, noun, n)}"


NAMED = {
    "ru": {"clip": ("клип", "клипы"), "image": ("изображение", "изображения")},
    "en": {"clip": ("clip", "clips"), "image": ("image", "images")},
}


def named(lang: str, noun: str, indexes) -> str:
    """Segments by number: "клип 4", "клипы 3, 5", "images 2, 7"."""
    indexes = sorted(indexes)
    one, several = NAMED.get(lang, NAMED["ru"])[noun]
    return f"{one if len(indexes) == 1 else several} {numbers(indexes)}"


def numbers(indexes) -> str:
    """0-based segment indexes as the user counts them: "3", "3, 5"."""
    return ", ".join(str(i + 1) for i in sorted(indexes))


def spans(indexes) -> str:
    """Like `numbers`, runs of three or more as a span: "2–10", "2, 3", "1, 4–6"."""
    runs: list[list[int]] = []
    for i in sorted(indexes):
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(f"{r[0] + 1}–{r[-1] + 1}" if len(r) >= 3 else numbers(r) for r in runs)


def refusal_waits(lang: str, noun: str, ready: int, total: int, waiting, blocked) -> str:
    """What waits on the user's answer to a refusal: the segments made from it, or the refused
    ones ("" when there is nothing to say)."""
    if blocked:
        return text(lang, "refused_blocks", numbers=spans(blocked))
    if not waiting:
        return ""
    key = "refused_waits_one" if len(waiting) == 1 else "refused_waits_many"
    return text(lang, key, ready=ready, total=total, what=named(lang, noun, waiting))


def segment_caption(lang: str, stage: str, indexes, total: int) -> str:
    """ "🎞 Клип 4 из 10", "🖼 Изображения 3, 5 из 10"."""
    noun = "image" if stage == "images" else "clip"
    key = f"segment_{noun}" if len(list(indexes)) == 1 else f"segment_{noun}s"
    return text(lang, key, numbers=numbers(indexes), total=total)


def status_name(lang: str, status: str) -> str:
    return STATUS_NAMES.get(lang, STATUS_RU).get(status, status)


def clip(value: str, limit: int) -> str:
    """Trim to Telegram's limit, marking the cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
