"""Every text the bot shows, in one catalogue: Russian (the seed's texts) by default, English
when the user's language_code starts with "en". Both catalogues have the same keys and the
same placeholders (tests/unit/telegram/test_texts.py renders every one of them).

A count with its noun is written `{limit:#video}`: the number and the noun in the plural form
CLDR gives for it (Babel's plural rules: 1 ролик, 2 ролика, 5 роликов, 11 роликов, 21 ролик).
Russian texts put such a count where the noun stands in the nominative ("лимит — 21 ролик").
Messages are sent without a parse mode, so a user's underscores and asterisks can never break
them."""

from __future__ import annotations

import functools
import string

from babel import Locale

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

# The persistent keyboard and the approval buttons: the seed's labels in Russian, the same
# buttons in English. A tap on either language's label works (a chat whose language changed
# keeps its old keyboard until the next message).
BUTTONS = {
    "ru": {"status": "📊 Статус", "start": "🔄 Старт", "approve": "✅ Подтвердить", "reject": "❌ Отклонить"},
    "en": {"status": "📊 Status", "start": "🔄 Start", "approve": "✅ Approve", "reject": "❌ Reject"},
}

RU = {
    "welcome": (
        "👋 Привет, {name}!\n\n"
        "Я делаю 50-секундные ролики по вашему описанию: сценарий, 10 изображений, "
        "10 анимированных клипов, озвучка и монтаж.\n\n"
        "Этапы (три из них утверждаете вы):\n"
        "1. 📝 Сценарий — утверждение\n"
        "2. 🖼 10 изображений — утверждение\n"
        "3. 🎞 10 клипов — утверждение\n"
        "4. 🎙 Озвучка и 🎬 сборка ролика\n\n"
        "⏱ Обычно это занимает 15–20 минут.\n\n"
        "Кнопки:\n"
        "📊 Статус — показывает текущий прогресс\n"
        "✅ Подтвердить — утверждает текущий этап\n"
        "❌ Отклонить — отменяет задачу и очищает данные\n"
        "🔄 Старт — показывает это приветствие\n\n"
        "✍️ Отправьте описание ролика, например «Реклама кофе», или надиктуйте его голосовым сообщением."
    ),
    "help": (
        "ℹ️ Как пользоваться ботом\n\n"
        "Отправьте описание ролика сообщением (лимит — {max_chars:#char}) или надиктуйте его голосовым.\n"
        "Я пришлю сценарий, потом изображения, потом клипы и после каждого этапа подожду вашего ответа "
        "(до {minutes} мин.):\n"
        "✅ Подтвердить — этап принят, работаю дальше;\n"
        "❌ Отклонить — отменить всю задачу, а не только этап;\n"
        "👍 «ок», «да», «го», «давай» или 👍 — то же, что ✅ Подтвердить;\n"
        "💬 или напишите, что изменить. Сценарий я перепишу по вашим словам; изображения и клипы — "
        "по номерам: «переделай 3», «переделай 2 5 светлее», несколько подряд: «переделай 3-5» или "
        "«переделай с 3 по 5», или все сразу: «переделай все ярче»; "
        "а «покажи 7» пришлёт изображение или клип 7 ещё раз. Если не пойму, одобрение это или правка "
        "(«да, но короче»), спрошу кнопками.\n"
        "💰 Цену каждой переделки я называю до того, как её начать; дорогую (от ${confirm_usd}) "
        "начинаю только после вашего нажатия.\n"
        "🚫 Если модерация не пропустила сегмент, ответьте на моё сообщение о нём новым промптом "
        "или начните с номера: «7: чашка кофе на столе».\n\n"
        "/start — приветствие\n/status — прогресс текущей задачи\n/settings — формат, голос, язык, субтитры\n"
        "/history — последние задачи\n/help — эта справка"
    ),
    "accepted": (
        "✅ Запрос принят! ID: {job_id}\n\n"
        "💰 Примерная стоимость: ≈ ${usd}\n"
        "⏱ Ролик будет готов примерно через 15–20 минут.\n"
        "📊 Статус — посмотреть прогресс\n"
        "✅ Подтвердить — утвердить текущий этап\n"
        "❌ Отклонить — отменить задачу"
    ),
    "busy": (
        "⏳ У вас уже есть задача в работе: {job_id}.\n"
        "📊 Статус: {status}\n"
        "Дождитесь её окончания или нажмите ❌ Отклонить, чтобы отменить её и начать новую."
    ),
    "daily_budget": (
        "⛔ За последние сутки ваши ролики стоили ${spent}, а дневной бюджет — ${budget}. "
        "Новый ролик стоит ≈ ${estimate} и в бюджет уже не помещается.\n"
        "Заказать его можно будет, когда расходы за последние 24 часа опустятся ниже ${room}."
    ),
    "bot_budget": (
        "⛔ За последние сутки ролики всех пользователей бота стоили ${spent}, а общий дневной бюджет "
        "бота — ${budget}. Новый ролик стоит ≈ ${estimate} и в бюджет уже не помещается. "
        "Попробуйте позже."
    ),
    "budget_too_small": (
        "⛔ Ролик стоит ≈ ${estimate}, а дневной бюджет — ${budget}: такой ролик в него не помещается. "
        "Выберите модель видео дешевле в /settings."
    ),
    "failed_budget": (
        "⛔ Задача {job_id} остановлена: дневной бюджет исчерпан, за следующий шаг платить нечем. "
        "Ничего больше не запущено."
    ),
    "failed_daily_cap": (
        "⛔ Задача {job_id} остановлена до генерации: дневной лимит генераций Runway для этой модели "
        "исчерпан. Ничего не запущено. Лимит освободится после {time}."
    ),
    "daily_limit": (
        "⛔ Лимит — {limit:#video} в сутки, и он исчерпан.\nСледующий ролик можно будет заказать после {time} UTC."
    ),
    "script_ready": (
        "📝 Сценарий готов!\n\n{script}\n\n💬 Чтобы изменить сценарий, просто напишите, "
        "что поменять, — я перепишу его и спрошу снова."
    ),
    "images_ready": (
        "{above} Выберите действие:\n"
        "💬 Или напишите «переделай 3» (можно несколько номеров и пожелание: «переделай 2 5 светлее»), "
        "а чтобы изменить все изображения сразу, просто напишите, что поменять."
    ),
    "videos_ready": (
        "{above} Выберите действие:\n"
        "💬 «покажи 7» пришлёт любой клип; «переделай 3» (можно несколько номеров и пожелание) "
        "сделает его заново; а чтобы изменить все клипы сразу, просто напишите, что поменять."
    ),
    "images_above_all": "🖼 Изображения готовы ({count} шт.), они выше.",
    "videos_above_first": "🎞 Клипы готовы ({count} шт.). Выше — {what}.",
    "above_redone": "{icon} Переделано: {what}, см. выше.",
    "images_album_caption": "🖼 Изображения для ролика «{topic}»",
    "approved_script": "✅ Сценарий утверждён! Начинаю генерацию...",
    "approved_images": "✅ Изображения утверждены! Анимирую клипы...",
    "approved_videos": "✅ Клипы утверждены! Собираю ролик...{voiceover}",
    "cb_approved": "✅ Утверждено",
    "cb_rejected": "❌ Отменяю задачу…",
    "already_decided": "Этот этап уже {decision}. Повторное нажатие ничего не меняет.",
    "decision_approved": "утверждён",
    "decision_rejected": "отклонён",
    "decision_timed_out": "закрыт: время на ответ истекло",
    "decision_abandoned": "закрыт",
    "not_at_this_stage": "Эта кнопка устарела: задача сейчас не ждёт решения на этом этапе.",
    "job_over": "Эта задача уже закончилась (статус: {status}). Кнопка больше не действует.",
    "older_job": "Эта кнопка от предыдущей задачи. Действует только последняя: {job_id}.",
    "expired": "⌛ Время на ответ истекло, задача остановлена.",
    "nothing_to_approve": "Сейчас нечего подтверждать. 📊 Статус покажет, что происходит.",
    "nothing_to_reject": "Нет активной задачи, которую можно отменить.",
    "no_job": "У вас пока нет задач. Отправьте описание ролика, чтобы начать.",
    "cancelled": (
        "❌ Задача {job_id} отменена{where}. Сценарий, изображения, клипы и озвучка удалены; "
        "в /history осталась только тема."
    ),
    "timed_out": (
        "⌛ Вы не ответили вовремя{where}, поэтому задача {job_id} остановлена. "
        "Отправьте описание снова, чтобы начать заново."
    ),
    # where a job ended: after "отменена" and "не ответили вовремя"
    "where_script": " на этапе сценария",
    "where_images": " на этапе изображений",
    "where_videos": " на этапе клипов",
    "where_refused": ", пока сегмент {n} ждал новый промпт",
    "failed_refused": (
        "🚫 Сервис генерации отказался работать с этим описанием (модерация). Задача {job_id} остановлена. "
        "Попробуйте сформулировать тему иначе."
    ),
    "failed_refused_segment": (
        "🚫 Модерация сервиса генерации снова не пропустила {what} из {total}, а попыток "
        "для этого сегмента больше нет (лимит — {limit:#attempt}). Задача {job_id} остановлена. "
        "Попробуйте сформулировать тему иначе."
    ),
    "failed_outage": (
        "⚠️ Сервис генерации сейчас недоступен, задача {job_id} остановлена. Попробуйте ещё раз чуть позже."
    ),
    "failed_generic": "⚠️ Не удалось сделать ролик: задача {job_id} остановлена из-за ошибки. Попробуйте ещё раз.",
    "narration_shortened_one": (
        "✂️ Текст озвучки сегмента {numbers} не укладывался в его {seconds} сек., поэтому я переписал его короче."
    ),
    "narration_shortened_many": (
        "✂️ Тексты озвучки сегментов {numbers} не укладывались в их {seconds} сек., поэтому я переписал их короче."
    ),
    "narration_shortened_subtitled": "В ролике и в субтитрах — сокращённый текст.",
    "narration_shortened_spoken": "В ролике звучит сокращённый текст.",
    "video_caption": "🎬 Ваш ролик готов!\n⏱ Создан за {minutes} мин. • 📦 {size_mb} МБ • {duration} сек",
    "video_too_big": (
        "🎬 Ролик готов, но он весит {size_mb} МБ, а Telegram принимает от ботов не больше "
        "{limit_mb} МБ, поэтому прислать его сюда не получится. Задача {job_id}."
    ),
    "not_allowed": "🔒 Извините, этот бот работает только для приглашённых пользователей.",
    "private_only": "Я работаю только в личных сообщениях. Напишите мне напрямую.",
    "empty_topic": "Описание пустое. Напишите, о чём должен быть ролик, например: Реклама кофе",
    "topic_too_long": "Описание слишком длинное: {length:#char} при лимите {max_chars}. Сократите его.",
    "unsupported_message": "Я понимаю текст и голосовые сообщения: напишите описание ролика или надиктуйте его.",
    "voice_unsupported": "Видеосообщения я не понимаю. Напишите описание или надиктуйте его голосовым сообщением.",
    "edited_ignored": "Исправленные сообщения я не читаю: отправьте исправленный текст новым сообщением.",
    "unknown_command": "Неизвестная команда. /help — список команд.",
    "unknown_button": "Эта кнопка больше не действует.",
    "error": "⚠️ Что-то пошло не так. Попробуйте ещё раз через минуту.",
    # Status, in the seed's order: ID, Статус, Сценарий, the segment counts; then the rest
    "status_title": "📊 Статус задачи",
    "status_id": "🆔 ID: {job_id}",
    "status_status": "📊 Статус: {status}",
    "status_script": "{icon} Сценарий: {state}",
    "status_segments": "📊 Сегменты ({count} шт.):",
    "status_image_prompts": "• Промпты для изображений: {n}/{total}",
    "status_images": "• Изображения: {n}/{total}",
    "status_animation_prompts": "• Промпты для анимации: {n}/{total}",
    "status_videos": "• Видео: {n}/{total}",
    "status_prompt": "💬 Описание: {prompt}",
    "status_audio": "🎙 Озвучка: {duration} сек",
    "status_audio_none": "🎙 Озвучка: ещё не записана",
    "status_video": "🎬 Финальное видео: {size_mb} МБ, {duration} сек",
    "status_video_none": "🎬 Финальное видео: ещё не собрано",
    "status_created": "🕐 Создана: {at}",
    "status_completed": "🏁 Завершена: {at}",
    "status_error": "⚠️ Причина: {reason}",
    "reason_timed_out": "вы не ответили вовремя",
    "reason_failed_refused": "модерация сервиса генерации не пропустила материал",
    "reason_failed_outage": "сервис генерации был недоступен",
    "reason_failed_generic": "внутренняя ошибка",
    "reason_voice_too_big": "голосовое сообщение слишком большое",
    "reason_voice_failed": "голосовое сообщение не удалось распознать",
    "reason_voice_empty": "в голосовом сообщении не удалось разобрать слов",
    "script_waiting": "ещё не готов",
    "script_generated": "готов, ждёт вашего решения",
    "script_approved": "утверждён",
    "script_rejected": "отклонён",
    # The Статус line while a job runs: "Обработка — генерирую изображения"
    "processing": "Обработка — {activity}",
    "waits_prompt": "ждёт ваш новый промпт для сегмента {numbers}",
    "waits_prompts": "ждёт ваши новые промпты для сегментов {numbers}",
    "busy_waits_prompt": "{activity}, а сегмент {numbers} ждёт ваш новый промпт",
    "busy_waits_prompts": "{activity}, а сегменты {numbers} ждут ваши новые промпты",
    "transcribing_voice": "распознаю голосовое сообщение",
}

# What a running job does or waits for (after "Обработка — "), and how a job ended.
STATUS_RU = {
    "pending": "начинаю работу",
    "generating_script": "пишу сценарий",
    "awaiting_script_approval": "ждёт вашего решения по сценарию",
    "script_approved": "делю сценарий на сегменты",
    "generating_images": "генерирую изображения",
    "awaiting_image_approval": "ждёт вашего решения по изображениям",
    "images_approved": "пишу промпты для анимации",
    "generating_videos": "анимирую клипы",
    "awaiting_video_approval": "ждёт вашего решения по клипам",
    "videos_approved": "заканчиваю озвучку",
    "assembling": "собираю ролик",
    "delivering": "отправляю ролик",
    "completed": "Завершено",
    "cancelled": "Отменено",
    "failed": "Ошибка",
    "timed_out": "Остановлено: время на ответ истекло",
}

EN = {
    "welcome": (
        "👋 Hi, {name}!\n\n"
        "I make 50-second videos from your description: a script, 10 images, 10 animated clips, "
        "a voice-over and the final edit.\n\n"
        "Stages (you approve three of them):\n"
        "1. 📝 Script — approval\n"
        "2. 🖼 10 images — approval\n"
        "3. 🎞 10 clips — approval\n"
        "4. 🎙 Voice-over and 🎬 assembly\n\n"
        "⏱ It usually takes 15–20 minutes.\n\n"
        "Buttons:\n"
        "📊 Status — shows the current progress\n"
        "✅ Approve — approves the current stage\n"
        "❌ Reject — cancels the job and clears its data\n"
        "🔄 Start — shows this greeting\n\n"
        "✍️ Send a description of the video, for example “Coffee commercial”, or say it in a voice message."
    ),
    "help": (
        "ℹ️ How to use the bot\n\n"
        "Send a description of the video as a message (the limit is {max_chars:#char}) or say it in a "
        "voice message.\n"
        "I will send the script, then the images, then the clips, and wait for your answer after each "
        "(up to {minutes} min):\n"
        "✅ Approve — the stage is accepted, I carry on;\n"
        "❌ Reject — cancel the whole job, not just the stage;\n"
        "👍 “ok”, “yes”, “approve” or 👍 — the same as ✅ Approve;\n"
        "💬 or write what to change. I rewrite the script with your words; images and clips go by "
        "number: “redo 3”, “redo 2 5 brighter”, a run of them: “redo 3-5” or “redo 3 to 5”, or all "
        "at once: “redo all brighter”; and “show 7” "
        "sends image or clip 7 again. If I can't tell approval from a change (“yes, but shorter”), "
        "I ask with buttons.\n"
        "💰 I tell each redo's price before it starts, and start an expensive one (from ${confirm_usd}) "
        "only when you tap.\n"
        "🚫 If moderation refused a segment, reply to my message about it with a new prompt, or start "
        "with its number: “7: a cup of coffee on a table”.\n\n"
        "/start — greeting\n/status — progress of the current job\n/settings — format, voice, language, subtitles\n"
        "/history — your latest jobs\n/help — this help"
    ),
    "accepted": (
        "✅ Request accepted! ID: {job_id}\n\n"
        "💰 Estimated cost: ≈ ${usd}\n"
        "⏱ The video will be ready in about 15–20 minutes.\n"
        "📊 Status — see the progress\n"
        "✅ Approve — approve the current stage\n"
        "❌ Reject — cancel the job"
    ),
    "busy": (
        "⏳ You already have a job running: {job_id}.\n"
        "📊 Status: {status}\n"
        "Wait for it to finish, or press ❌ Reject to cancel it and start a new one."
    ),
    "daily_budget": (
        "⛔ Your videos of the last 24 hours cost ${spent}, and your daily budget is ${budget}. "
        "A new video costs ≈ ${estimate}, which no longer fits.\n"
        "You can order it once your videos of the last 24 hours cost less than ${room}."
    ),
    "bot_budget": (
        "⛔ All users' videos of the last 24 hours cost ${spent}, and the bot's daily budget is "
        "${budget}. A new video costs ≈ ${estimate}, which no longer fits. Please try again later."
    ),
    "budget_too_small": (
        "⛔ A video costs ≈ ${estimate}, and the daily budget is ${budget}: it cannot fit. "
        "Pick a cheaper video model in /settings."
    ),
    "failed_budget": (
        "⛔ Job {job_id} has stopped: the daily budget is used up, the next step cannot be paid for. "
        "Nothing more was started."
    ),
    "failed_daily_cap": (
        "⛔ Job {job_id} stopped before generating: Runway's daily generation limit for this model is "
        "used up. Nothing was started. The limit frees up after {time}."
    ),
    "daily_limit": (
        "⛔ The limit is {limit:#video} a day, and it is used up.\nYou can order the next one after {time} UTC."
    ),
    "script_ready": (
        "📝 The script is ready!\n\n{script}\n\n💬 To change it, just write what to change: "
        "I will rewrite it and ask again."
    ),
    "images_ready": (
        "{above} Choose an action:\n"
        "💬 Or write “redo 3” (several numbers and a wish are fine: “redo 2 5 brighter”), "
        "and to change all the images at once, just write what to change."
    ),
    "videos_ready": (
        "{above} Choose an action:\n"
        "💬 “show 7” sends any clip; “redo 3” (several numbers and a wish are fine) makes it again; "
        "and to change all the clips at once, just write what to change."
    ),
    "images_above_all": "🖼 The images are ready ({count}), see above.",
    "videos_above_first": "🎞 The clips are ready ({count}). Above: {what}.",
    "above_redone": "{icon} Made again: {what}, see above.",
    "images_album_caption": "🖼 Images for “{topic}”",
    "approved_script": "✅ Script approved! Starting generation...",
    "approved_images": "✅ Images approved! Animating the clips...",
    "approved_videos": "✅ Clips approved! Assembling the video...{voiceover}",
    "cb_approved": "✅ Approved",
    "cb_rejected": "❌ Cancelling the job…",
    "already_decided": "This stage has already been {decision}. Tapping again changes nothing.",
    "decision_approved": "approved",
    "decision_rejected": "rejected",
    "decision_timed_out": "closed: the time to answer ran out",
    "decision_abandoned": "closed",
    "not_at_this_stage": "This button is out of date: the job is not waiting for a decision at this stage.",
    "job_over": "This job is already over (status: {status}). The button no longer works.",
    "older_job": "This button belongs to an earlier job. Only the latest one counts: {job_id}.",
    "expired": "⌛ The time to answer ran out, so the job has stopped.",
    "nothing_to_approve": "There is nothing to approve right now. 📊 Status shows what is going on.",
    "nothing_to_reject": "There is no active job to cancel.",
    "no_job": "You have no jobs yet. Send a description to start one.",
    "cancelled": (
        "❌ Job {job_id} was cancelled{where}. Its script, images, clips and narration are deleted; "
        "/history keeps only the topic."
    ),
    "timed_out": (
        "⌛ There was no answer in time{where}, so job {job_id} has stopped. Send the description again to start over."
    ),
    "where_script": " at the script stage",
    "where_images": " at the image stage",
    "where_videos": " at the clip stage",
    "where_refused": " while segment {n} was waiting for a new prompt",
    "failed_refused": (
        "🚫 The generation service refused to work with this description (moderation). Job {job_id} "
        "has stopped. Try wording the topic differently."
    ),
    "failed_refused_segment": (
        "🚫 The generation service's moderation refused {what} of {total} again, and this "
        "segment has no attempts left (the limit is {limit:#attempt}). Job {job_id} has stopped. "
        "Try wording the topic differently."
    ),
    "failed_outage": "⚠️ The generation service is unavailable right now, so job {job_id} has stopped. Try again later.",
    "failed_generic": "⚠️ The video could not be made: job {job_id} stopped because of an error. Please try again.",
    "narration_shortened_one": (
        "✂️ The narration of segment {numbers} did not fit its {seconds} s, so I rewrote it shorter."
    ),
    "narration_shortened_many": (
        "✂️ The narration of segments {numbers} did not fit their {seconds} s, so I rewrote them shorter."
    ),
    "narration_shortened_subtitled": "The video and its subtitles say the shorter text.",
    "narration_shortened_spoken": "The video says the shorter text.",
    "video_caption": "🎬 Your video is ready!\n⏱ Made in {minutes} min • 📦 {size_mb} MB • {duration} s",
    "video_too_big": (
        "🎬 The video is ready, but it is {size_mb} MB and Telegram accepts at most {limit_mb} MB "
        "from bots, so it cannot be sent here. Job {job_id}."
    ),
    "not_allowed": "🔒 Sorry, this bot is for invited users only.",
    "private_only": "I only work in private chats. Message me directly.",
    "empty_topic": "The description is empty. Write what the video should be about, e.g. Coffee commercial",
    "topic_too_long": "The description is too long: {length:#char}, and the limit is {max_chars}. Please shorten it.",
    "unsupported_message": "I understand text and voice messages: type the video's description or say it.",
    "voice_unsupported": "I can't understand video messages. Type the description or say it in a voice message.",
    "edited_ignored": "I don't read edited messages: send the corrected text as a new message.",
    "unknown_command": "Unknown command. /help lists the commands.",
    "unknown_button": "This button no longer works.",
    "error": "⚠️ Something went wrong. Please try again in a minute.",
    "status_title": "📊 Job status",
    "status_id": "🆔 ID: {job_id}",
    "status_status": "📊 Status: {status}",
    "status_script": "{icon} Script: {state}",
    "status_segments": "📊 Segments ({count}):",
    "status_image_prompts": "• Image prompts: {n}/{total}",
    "status_images": "• Images: {n}/{total}",
    "status_animation_prompts": "• Animation prompts: {n}/{total}",
    "status_videos": "• Videos: {n}/{total}",
    "status_prompt": "💬 Description: {prompt}",
    "status_audio": "🎙 Voice-over: {duration} s",
    "status_audio_none": "🎙 Voice-over: not recorded yet",
    "status_video": "🎬 Final video: {size_mb} MB, {duration} s",
    "status_video_none": "🎬 Final video: not assembled yet",
    "status_created": "🕐 Created: {at}",
    "status_completed": "🏁 Completed: {at}",
    "status_error": "⚠️ Reason: {reason}",
    "reason_timed_out": "there was no answer in time",
    "reason_failed_refused": "the generation service's moderation refused the material",
    "reason_failed_outage": "the generation service was unavailable",
    "reason_failed_generic": "an internal error",
    "reason_voice_too_big": "the voice message was too big",
    "reason_voice_failed": "the voice message could not be transcribed",
    "reason_voice_empty": "no words could be made out in the voice message",
    "script_waiting": "not ready yet",
    "script_generated": "ready, waiting for your decision",
    "script_approved": "approved",
    "script_rejected": "rejected",
    "processing": "Processing — {activity}",
    "waits_prompt": "waiting for your new prompt for segment {numbers}",
    "waits_prompts": "waiting for your new prompts for segments {numbers}",
    "busy_waits_prompt": "{activity}; segment {numbers} is waiting for your new prompt",
    "busy_waits_prompts": "{activity}; segments {numbers} are waiting for your new prompts",
    "transcribing_voice": "transcribing the voice message",
}

STATUS_EN = {
    "pending": "starting",
    "generating_script": "writing the script",
    "awaiting_script_approval": "waiting for your decision on the script",
    "script_approved": "splitting the script into segments",
    "generating_images": "generating images",
    "awaiting_image_approval": "waiting for your decision on the images",
    "images_approved": "writing the animation prompts",
    "generating_videos": "animating the clips",
    "awaiting_video_approval": "waiting for your decision on the clips",
    "videos_approved": "finishing the voice-over",
    "assembling": "assembling the video",
    "delivering": "sending the video",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "failed": "Failed",
    "timed_out": "Stopped: no answer in time",
}

# ---- Steering: voice topics, /settings, /history, cost ----
RU.update(
    {
        "voice_needs_key": (
            "🎙 Голосовые сообщения сейчас не распознаются: бот не подключён к сервису распознавания речи. "
            "Напишите описание текстом."
        ),
        "voice_too_big": "🎙 Голосовое сообщение слишком большое: бот может скачать не больше {limit_mb} МБ.",
        "voice_failed": "🎙 Не удалось распознать голосовое сообщение. Попробуйте ещё раз или напишите текстом.",
        "voice_over_budget": "⛔ Дневной бюджет исчерпан: голосовое сообщение не распознано. Напишите текстом.",
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
            "Кнопки ниже, по рядам: формат, голос, язык, субтитры{video_row}."
        ),
        "settings_video": "\n🎬 Видеомодель: {model} (ролик на 50 с ≈ ${usd})",
        "settings_video_row": ", видеомодель (с ценой ролика на 50 с)",
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
        "spent_so_far": "Всего на этот ролик потрачено ≈ ${usd}.",
        "revising_script": (
            "🔄 Переписываю сценарий по вашему отзыву (правка {n} из {limit}). Эта правка стоит ≈ ${usd}. {spent}"
        ),
        "revising_some": (
            "🔄 Делаю заново {what}, остальные не трогаю (правка {n} из {limit}). Эта правка стоит ≈ ${usd}. {spent}"
        ),
        "revising_all": "🔄 Делаю заново все {what} (правка {n} из {limit}). Эта правка стоит ≈ ${usd}. {spent}",
        "revise_limit": (
            "Правок на этом этапе больше не будет: лимит — {limit:#revision}. Нажмите ✅ Подтвердить или ❌ Отклонить."
        ),
        "redo_over_budget": (
            "⛔ Эта правка стоит ≈ ${usd} и сейчас не помещается в дневной бюджет: за последние сутки "
            "с тем, что ещё нужно этому ролику, набирается ${spent}, а бюджет — ${budget}. Ничего не "
            "оплачено, этап ждёт вашего ответа: ✅ Подтвердить, ❌ Отклонить или правка поменьше.\n{when}"
        ),
        "redo_over_budget_user": (
            "Эту правку можно будет заказать, когда расходы за последние 24 часа опустятся ниже ${room}."
        ),
        "redo_over_budget_bot": "Общий дневной бюджет бота сейчас исчерпан: попробуйте позже.",
        "redo_over_budget_never": "Такая правка не помещается в дневной бюджет, даже пустой.",
        "redo_over_budget_this_video": (
            "Вместе с этим роликом (≈ ${job} за последние сутки) такая правка в дневной бюджет не помещается."
        ),
        "redo_daily_cap": (
            "⛔ Дневной лимит генераций Runway для этой модели ({cap} в сутки) сейчас не вмещает эту правку. "
            "Заказать её можно будет после {time}. Ничего не оплачено, этап ждёт вашего ответа: "
            "✅ Подтвердить, ❌ Отклонить или правка поменьше."
        ),
        "redo_daily_cap_never": (
            "⛔ Генераций Runway в этой правке: {wanted}, а дневной лимит модели — {cap}: столько за сутки не сделать. "
            "Ничего не оплачено, этап ждёт вашего ответа: ✅ Подтвердить, ❌ Отклонить или правка поменьше."
        ),
        "redo_hint": (
            "Чтобы переделать {what}, напишите их номера от 1 до {count}, например: «переделай 3», "
            "«переделай 3 5 светлее» или «переделай 2-4». Или нажмите ✅ Подтвердить / ❌ Отклонить."
        ),
        "wrong_stage_script": (
            "📝 Сейчас на проверке сценарий: изображений и клипов ещё нет. Сейчас можно переписать сценарий "
            "(напишите, что изменить) или утвердить его: ✅ Подтвердить."
        ),
        "wrong_stage_images": (
            "🖼 Сейчас на проверке изображения: клипов ещё нет, их можно будет переделать на следующем этапе. "
            "Сейчас можно переделать изображения (номера от 1 до {count}): «переделай 3 светлее», "
            "«переделай 2-4 ярче» или «переделай все ярче»; или нажмите ✅ Подтвердить."
        ),
        "wrong_stage_videos": (
            "🎞 Сейчас на проверке клипы: изображения уже утверждены. Сейчас можно переделать клипы "
            "(номера от 1 до {count}): «переделай 3 медленнее», «переделай 2-4 быстрее» или "
            "«переделай все плавнее»; или нажмите ✅ Подтвердить."
        ),
        "redo_what_images": "изображения",
        "redo_what_videos": "клипы",
        "script_feedback_hint": (
            "Напишите словами, что изменить в сценарии, или нажмите ✅ Подтвердить / ❌ Отклонить."
        ),
        "redo_all_offer": (
            "🔁 Переделать все {what} с пожеланием «{words}»? Это будет стоить ≈ ${usd}. {spent}\n"
            "Или назовите номера: «переделай 3 5 …»."
        ),
        "redo_all_offer_plain": "🔁 Переделать все {what}? Это будет стоить ≈ ${usd}. {spent}",
        "redo_some_offer": "🔁 Переделать {what} с пожеланием «{words}»? Это будет стоить ≈ ${usd}. {spent}",
        "redo_some_offer_plain": "🔁 Переделать {what}? Это будет стоить ≈ ${usd}. {spent}",
        "ask_script": "🤔 Утвердить сценарий как есть или переписать его с пожеланием «{words}» (≈ ${usd})?",
        "ask_redo_all": "🤔 Утвердить как есть или переделать все {what} с пожеланием «{words}» (≈ ${usd})?",
        "refusal_which": (
            "Новые промпты ждут сегменты {numbers}. Ответьте на моё сообщение о нужном сегменте "
            "или начните с его номера: «7: новый промпт». 🔁 Повторить под каждым сообщением "
            "пробует тот же промпт ещё раз."
        ),
        "btn_redo_all": "🔁 Переделать все (≈ ${usd})",
        "btn_redo_some": "🔁 Переделать (≈ ${usd})",
        "btn_rewrite": "✏️ Переписать (≈ ${usd})",
        "btn_redo_cancel": "Отмена",
        "cb_redo_all": "🔁 Переделываю все",
        "cb_redo": "🔁 Принято, переделываю",
        "redo_all_declined": "Хорошо, ничего не переделываю.",
        "offer_stale": "Это предложение устарело: этап уже решён или изменился.",
        "stale_round": "Эта кнопка от прежней версии. Ответьте на последний вопрос ниже.",
        "show_hint": "Напишите номер от 1 до {count}, например: «покажи 7».",
        "show_missing": "Сегмента {n} пока нет.",
        "segment_image": "🖼 Изображение {numbers} из {total}",
        "segment_images": "🖼 Изображения {numbers} из {total}",
        "segment_clip": "🎞 Клип {numbers} из {total}",
        "segment_clips": "🎞 Клипы {numbers} из {total}",
        "segment_refused": (
            "🚫 Модерация сервиса генерации не пропустила {what} из {total}.\n"
            "Промпт: «{prompt}»\n\n"
            "✍️ Напишите новый промпт для этого сегмента — остальные переделывать не придётся. "
            "Или нажмите 🔁 Повторить, чтобы попробовать с тем же промптом, или ❌ Отменить задачу."
        ),
        "refused_blocks": "⏸ Это образец для изображений {numbers}: они ждут вашего ответа.",
        "refused_waits_one": "⏸ Остальные готовы ({ready} из {total}): вашего ответа ждёт только {what}.",
        "refused_waits_many": "⏸ Готово {ready} из {total}: вашего ответа ждут {what}.",
        "btn_refusal_retry": "🔁 Повторить",
        "btn_refusal_cancel": "❌ Отменить задачу",
        "refusal_new_prompt": (
            "✍️ Новый промпт для сегмента {n} принят, делаю сегмент заново (попытка {round} из {limit}, ≈ ${usd})."
        ),
        "refusal_prompt_hint": "Напишите новый промпт для сегмента {n} словами или нажмите 🔁 Повторить.",
        "refusal_retrying": "🔁 Пробую сегмент {n} ещё раз (попытка {round} из {limit}, ≈ ${usd}).",
        "cb_refusal_retry": "🔁 Пробую ещё раз",
        "vendor_queued": (
            "⏳ {what}: часть задач ждёт в очереди у Runway. Тариф бота в Runway позволяет лишь несколько "
            "генераций одновременно на все задачи бота, остальные ждут своей очереди. Ожидание не "
            "оплачивается, но ролик будет готов позже; сколько задач в очереди, видно в сообщении о "
            "прогрессе и в 📊 Статус."
        ),
        "vendor_queued_images": "Изображения",
        "vendor_queued_videos": "Клипы",
        "progress_queued": " · ⏳ в очереди у Runway: {n}",
    }
)
EN.update(
    {
        "voice_needs_key": (
            "🎙 Voice messages can't be understood right now: the bot is not connected to a speech "
            "recognition service. Please type the description."
        ),
        "voice_too_big": "🎙 The voice message is too big: the bot can download at most {limit_mb} MB.",
        "voice_failed": "🎙 The voice message could not be transcribed. Try again or type the description.",
        "voice_over_budget": "⛔ The daily budget is used up: the voice message was not transcribed. Please type it.",
        "voice_empty": "🎙 No words could be made out in the voice message. Try again or type the description.",
        "voice_heard": "🎙 Heard: “{text}”",
        "cost_line": "💰 Cost: ≈ ${usd}",
        "cost_narration": " (of which the narration ≈ ${usd})",
        "status_audio_recording": "🎙 Voice-over: {n}/{total}",
        "voiceover_done": "🎙 The voice-over is already done: {total}/{total}.",
        "voiceover_at": "🎙 Voice-over: {n}/{total}, carrying on.",
        "settings": (
            "⚙️ Settings (for your next video)\n\n"
            "📐 Format: {ratio}\n🗣 Voice: {voice}\n🌐 Narration language: {language}\n"
            "💬 Subtitles: {subtitles}{video}\n\n"
            "The buttons below, row by row: format, voice, language, subtitles{video_row}."
        ),
        "settings_video": "\n🎬 Video model: {model} (a 50 s video ≈ ${usd})",
        "settings_video_row": ", video model (with the price of a 50 s video)",
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
        "history_caption": "🎬 “{prompt}” again",
        "history_sent": "🎬 Sending the video",
        "history_gone": "This video is no longer available: it was deleted or its storage time ran out.",
        "decision_revised": "sent back for a revision",
        "spent_so_far": "Spent on this video so far: ≈ ${usd}.",
        "revising_script": (
            "🔄 Rewriting the script with your feedback (revision {n} of {limit}). It costs ≈ ${usd}. {spent}"
        ),
        "revising_some": (
            "🔄 Making {what} again and keeping the rest (revision {n} of {limit}). It costs ≈ ${usd}. {spent}"
        ),
        "revising_all": "🔄 Making all {what} again (revision {n} of {limit}). It costs ≈ ${usd}. {spent}",
        "revise_limit": (
            "No more revisions at this stage: the limit is {limit:#revision}. Press ✅ Approve or ❌ Reject."
        ),
        "redo_over_budget": (
            "⛔ This revision costs ≈ ${usd} and does not fit the daily budget now: the last 24 hours, with "
            "what this video still needs, come to ${spent}, and the budget is ${budget}. Nothing was paid; "
            "the stage waits for your answer: ✅ Approve, ❌ Reject or a smaller revision.\n{when}"
        ),
        "redo_over_budget_user": "You can ask for it once the spending of the last 24 hours is below ${room}.",
        "redo_over_budget_bot": "The bot's daily budget is used up for now: please try again later.",
        "redo_over_budget_never": "A revision this size does not fit the daily budget even when it is empty.",
        "redo_over_budget_this_video": (
            "Together with this video (≈ ${job} in the last 24 hours), a revision this size does not fit "
            "the daily budget."
        ),
        "redo_daily_cap": (
            "⛔ Runway's daily generation limit for this model ({cap} a day) cannot take this revision now. "
            "You can ask for it after {time}. Nothing was paid; the stage waits for your answer: "
            "✅ Approve, ❌ Reject or a smaller revision."
        ),
        "redo_daily_cap_never": (
            "⛔ This revision is {wanted} Runway generations, and the model's daily limit is {cap}: "
            "that many cannot be made in a day. Nothing was paid; the stage waits for your answer: "
            "✅ Approve, ❌ Reject or a smaller revision."
        ),
        "redo_hint": (
            "To redo some {what}, write their numbers from 1 to {count}, e.g. “redo 3”, “redo 3 5 brighter” "
            "or “redo 2-4”. Or press ✅ Approve / ❌ Reject."
        ),
        "wrong_stage_script": (
            "📝 The script is up for approval now: there are no images or clips yet. You can rewrite the "
            "script now (write what to change) or approve it: ✅ Approve."
        ),
        "wrong_stage_images": (
            "🖼 The images are up for approval now: there are no clips yet, they can be redone at the next "
            "stage. You can redo images now (numbers 1 to {count}): “redo 3 brighter”, “redo 2-4 warmer” "
            "or “redo all brighter”; or press ✅ Approve."
        ),
        "wrong_stage_videos": (
            "🎞 The clips are up for approval now: the images are already approved. You can redo clips now "
            "(numbers 1 to {count}): “redo 3 slower”, “redo 2-4 faster” or “redo all smoother”; or press "
            "✅ Approve."
        ),
        "redo_what_images": "images",
        "redo_what_videos": "clips",
        "script_feedback_hint": "Write in words what to change in the script, or press ✅ Approve / ❌ Reject.",
        "redo_all_offer": (
            "🔁 Redo all {what} with “{words}”? That costs ≈ ${usd}. {spent}\nOr name the numbers: “redo 3 5 …”."
        ),
        "redo_all_offer_plain": "🔁 Redo all {what}? That costs ≈ ${usd}. {spent}",
        "redo_some_offer": "🔁 Redo {what} with “{words}”? That costs ≈ ${usd}. {spent}",
        "redo_some_offer_plain": "🔁 Redo {what}? That costs ≈ ${usd}. {spent}",
        "ask_script": "🤔 Approve the script as it is, or rewrite it with “{words}” (≈ ${usd})?",
        "ask_redo_all": "🤔 Approve as they are, or redo all {what} with “{words}” (≈ ${usd})?",
        "refusal_which": (
            "Segments {numbers} are waiting for new prompts. Reply to my message about the one you mean, "
            "or start with its number: “7: the new prompt”. 🔁 Retry under each message tries the same "
            "prompt again."
        ),
        "btn_redo_all": "🔁 Redo all (≈ ${usd})",
        "btn_redo_some": "🔁 Redo (≈ ${usd})",
        "btn_rewrite": "✏️ Rewrite (≈ ${usd})",
        "btn_redo_cancel": "Cancel",
        "cb_redo_all": "🔁 Redoing all",
        "cb_redo": "🔁 Got it, redoing",
        "redo_all_declined": "All right, nothing is redone.",
        "offer_stale": "This offer is out of date: the stage was decided or has changed.",
        "stale_round": "This button is from an earlier version. Answer the latest question below.",
        "show_hint": "Write a number from 1 to {count}, e.g. “show 7”.",
        "show_missing": "Segment {n} is not there yet.",
        "segment_image": "🖼 Image {numbers} of {total}",
        "segment_images": "🖼 Images {numbers} of {total}",
        "segment_clip": "🎞 Clip {numbers} of {total}",
        "segment_clips": "🎞 Clips {numbers} of {total}",
        "segment_refused": (
            "🚫 The generation service's moderation refused {what} of {total}.\n"
            "Prompt: “{prompt}”\n\n"
            "✍️ Write a new prompt for this segment: the others need not be made again. "
            "Or press 🔁 Retry to try the same prompt again, or ❌ Cancel the job."
        ),
        "refused_blocks": "⏸ This is the reference for images {numbers}: they wait for your answer.",
        "refused_waits_one": "⏸ The others are ready ({ready} of {total}): only {what} waits for your answer.",
        "refused_waits_many": "⏸ {ready} of {total} are ready: {what} wait for your answer.",
        "btn_refusal_retry": "🔁 Retry",
        "btn_refusal_cancel": "❌ Cancel the job",
        "refusal_new_prompt": (
            "✍️ Got the new prompt for segment {n}; making the segment again (attempt {round} of {limit}, ≈ ${usd})."
        ),
        "refusal_prompt_hint": "Write the new prompt for segment {n} in words, or press 🔁 Retry.",
        "refusal_retrying": "🔁 Trying segment {n} again (attempt {round} of {limit}, ≈ ${usd}).",
        "cb_refusal_retry": "🔁 Trying again",
        "vendor_queued": (
            "⏳ {what}: some tasks are waiting in Runway's queue. The bot's Runway plan allows only a few "
            "generations at once across all the bot's jobs, so the rest wait their turn. The wait is not "
            "billed, but the video will be ready later; the progress message and 📊 Status show how many "
            "are queued."
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
        "try_again": (
            "⚠️ Сейчас не получилось: сервис перегружен, ничего не изменилось. Попробуйте ещё раз через минуту."
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
        "try_again": (
            "⚠️ That did not go through: the service is overloaded and nothing changed. Try again in a minute."
        ),
    }
)

CATALOGUE = {"ru": RU, "en": EN}
STATUS_NAMES = {"ru": STATUS_RU, "en": STATUS_EN}
ENDED_STATUSES = ("completed", "cancelled", "failed", "timed_out")

# Nouns counted in the texts (`{n:#clip}`), by CLDR plural category: Russian one / few /
# many (and "other", for fractions), English one / other.
NOUNS = {
    "ru": {
        "clip": {"one": "клип", "few": "клипа", "many": "клипов", "other": "клипа"},
        "image": {"one": "изображение", "few": "изображения", "many": "изображений", "other": "изображения"},
        "segment": {"one": "сегмент", "few": "сегмента", "many": "сегментов", "other": "сегмента"},
        "video": {"one": "ролик", "few": "ролика", "many": "роликов", "other": "ролика"},
        "char": {"one": "символ", "few": "символа", "many": "символов", "other": "символа"},
        "revision": {"one": "правка", "few": "правки", "many": "правок", "other": "правки"},
        "attempt": {"one": "попытка", "few": "попытки", "many": "попыток", "other": "попытки"},
    },
    "en": {
        "clip": {"one": "clip", "other": "clips"},
        "image": {"one": "image", "other": "images"},
        "segment": {"one": "segment", "other": "segments"},
        "video": {"one": "video", "other": "videos"},
        "char": {"one": "character", "other": "characters"},
        "revision": {"one": "revision", "other": "revisions"},
        "attempt": {"one": "attempt", "other": "attempts"},
    },
}


def language_of(language_code: str | None) -> str:
    return "en" if (language_code or "").lower().startswith("en") else "ru"


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def plural(lang: str, noun: str, n: int | float) -> str:
    """The noun's form for n, by CLDR's plural rules for the language (Babel)."""
    lang = lang if lang in NOUNS else "ru"
    return NOUNS[lang][noun][_locale(lang).plural_form(abs(n))]


def counted(lang: str, noun: str, n: int) -> str:
    """ "3 клипа", "5 изображений", "21 ролик", "1 clip"."""
    return f"{n} {plural(lang, noun, n)}"


class _Formatter(string.Formatter):
    """str.format, plus `{n:#noun}`: the count with its noun in the right plural form."""

    def __init__(self, lang: str):
        self.lang = lang

    def format_field(self, value, format_spec: str) -> str:
        if format_spec.startswith("#"):
            return counted(self.lang, format_spec[1:], value)
        return super().format_field(value, format_spec)


_FORMATTERS = {lang: _Formatter(lang) for lang in CATALOGUE}


def text(lang: str, key: str, **values) -> str:
    lang = lang if lang in CATALOGUE else "ru"
    return _FORMATTERS[lang].format(CATALOGUE[lang][key], **values)


def button(lang: str, name: str) -> str:
    """A button's label: "status", "start", "approve", "reject"."""
    return BUTTONS.get(lang, BUTTONS["ru"])[name]


def button_name(label: str) -> str | None:
    """Which button a label is, in either language ("📊 Status" and "📊 Статус" are "status")."""
    return next((name for labels in BUTTONS.values() for name, shown in labels.items() if shown == label), None)


NAMED = {
    "ru": {"clip": ("клип", "клипы"), "image": ("изображение", "изображения"), "segment": ("сегмент", "сегменты")},
    "en": {"clip": ("clip", "clips"), "image": ("image", "images"), "segment": ("segment", "segments")},
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


def activity(lang: str, status: str, *, voice: bool = False) -> str:
    """What a running job does or waits for: "генерирую изображения", "ждёт вашего решения по
    сценарию" (a voice topic still pending is being transcribed)."""
    if voice and status == "pending":
        return text(lang, "transcribing_voice")
    return STATUS_NAMES.get(lang, STATUS_RU).get(status, status)


def status_name(lang: str, status: str, *, voice: bool = False) -> str:
    """How a job's status reads: "Обработка — генерирую изображения" while it runs (the seed's
    "Обработка", and what it is doing), "Завершено" once it ended."""
    if status in ENDED_STATUSES:
        return STATUS_NAMES.get(lang, STATUS_RU)[status]
    return text(lang, "processing", activity=activity(lang, status, voice=voice))


def clip(value: str, limit: int) -> str:
    """Trim to Telegram's limit, marking the cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
