"""Categories, topics and posts, as ``CategoriesController``, ``PostCreator``/``TopicCreator`` and
``PostRevisor`` change them (a mixin of :class:`~.state.ForumState`).

Validation order follows ``PostCreator#valid?``: a new topic is validated first (title, category,
``external_id``) and, when it fails, its errors alone are answered; then the post (``raw``).
Creating a category also creates its "About the … category" definition topic, as Discourse does
(without webhooks: Discourse saves it with callbacks skipped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eduvault.integrations.discourse.simulator import rules
from eduvault.integrations.discourse.simulator import serialize as ser
from eduvault.integrations.discourse.simulator import serialize_topics as tser
from eduvault.integrations.discourse.simulator.models import Category, Post, Topic, User, slugify
from eduvault.integrations.discourse.simulator.rules import Invalid

if TYPE_CHECKING:
    from eduvault.integrations.discourse.simulator.state import ForumState

    _Base = ForumState
else:
    _Base = object

DEFINITION_RAW = (
    "(Replace this first paragraph with a brief description of your new category. This guidance "
    "will appear in the category selection area, so try to keep it below 200 characters.)"
)
STATUSES = ("closed", "archived", "visible", "pinned", "pinned_globally")


class Content(_Base):
    # -- categories --------------------------------------------------------------------------

    def create_category(
        self,
        name: str,
        *,
        color: str = "0088CC",
        text_color: str = "FFFFFF",
        slug: str | None = None,
        description: str | None = None,
        parent_category_id: int | None = None,
    ) -> Category:
        with self._change() as emit:
            now = self.clock()
            self._check_category(None, name, slug, color, text_color, parent_category_id)
            category = Category(
                id=self._next_id("category"),
                name=name,
                slug=slug or slugify(name),
                color=color,
                text_color=text_color,
                created_at=now,
                updated_at=now,
                description=description,
                parent_category_id=parent_category_id,
                position=len(self.categories),
            )
            if not category.slug:
                category.slug = f"{category.id}-category"
            self.categories[category.id] = category
            topic = self._new_topic(self.system, f"About the {name} category", category.id, None, now)
            topic.pinned_at = now
            self._new_post(self.system, topic, description or DEFINITION_RAW, None, now)
            category.topic_id = topic.id
            emit("category", "category_created", ser.category(self, category))
        return category

    def update_category(self, category_id: int, **fields: Any) -> Category:
        with self._change() as emit:
            category = self.categories[int(category_id)]
            name = fields.get("name") or category.name
            slug = fields.get("slug") or None
            color = fields.get("color") or category.color
            text_color = fields.get("text_color") or category.text_color
            parent = fields.get("parent_category_id", category.parent_category_id)
            self._check_category(category, name, slug, color, text_color, parent)
            category.name, category.color, category.text_color = name, color, text_color
            category.parent_category_id = int(parent) if parent not in (None, "") else None
            if slug:
                category.slug = slug
            if "description" in fields:
                category.description = fields["description"]
            category.updated_at = self.clock()
            emit("category", "category_updated", ser.category(self, category))
        return category

    def _check_category(
        self, current: Category | None, name: str, slug: str | None, color: str, text_color: str, parent: Any
    ) -> None:
        errors = []
        if not str(name or "").strip():
            errors.append("Category Name can't be blank")
        elif len(name) > 50:
            errors.append(rules.too_long("Category Name", 50))
        parent_id = int(parent) if parent not in (None, "") else None
        siblings = [
            c for c in self.categories.values() if c is not current and c.parent_category_id == parent_id
        ]
        if name and any(c.name.lower() == str(name).lower() for c in siblings):
            errors.append("Category Name has already been taken")
        if slug and any(c.slug == slug for c in siblings):
            errors.append("Slug is already in use")
        errors += rules.color_errors("Color", color) + rules.color_errors("Text color", text_color)
        if errors:
            raise Invalid(errors)

    # -- topics and posts ------------------------------------------------------------------------

    def create_post(
        self,
        author: User,
        *,
        raw: Any,
        title: Any = None,
        category: Any = None,
        topic_id: Any = None,
        external_id: Any = None,
        reply_to_post_number: Any = None,
    ) -> Post:
        """``PostCreator``: a new topic (``title``) or a reply (``topic_id``); raises :class:`Invalid`."""
        with self._change() as emit:
            now = self.clock()
            raw = str(raw or "")
            if topic_id not in (None, ""):
                topic = self.topics.get(int(topic_id))
                if topic is None or topic.archived or (topic.closed and not author.staff):
                    raise Invalid([rules.TOPIC_NOT_FOUND])
                self._check_raw(author, raw, first_post=False)
                reply_to = int(reply_to_post_number) if reply_to_post_number else None
                post = self._new_post(author, topic, raw, reply_to, now)
                topic.bumped_at = now
                emit("post", "post_created", tser.post(self, post, webhook=True))
                return post
            title = rules.clean_title(title)
            errors = rules.title_errors(title, self.settings)
            taken = any(t.title.lower() == title.lower() for t in self.topics.values())
            if not errors and not self.settings.allow_duplicate_topic_titles and taken:
                errors.append("Title has already been used")
            category_id = self._category_param(category)
            if category_id is None or category_id == self.uncategorized_id:
                errors.append("Category can't be blank")
            if external_id is not None:
                external_id = str(external_id)
                errors += rules.external_id_errors(external_id)
                if any((t.external_id or "").lower() == external_id.lower() for t in self.topics.values()):
                    errors.append("External has already been taken")
            if errors:
                raise Invalid(errors)
            self._check_raw(author, raw, first_post=True)
            topic = self._new_topic(author, title, category_id, external_id, now)
            post = self._new_post(author, topic, raw, None, now)
            emit("topic", "topic_created", tser.topic_webhook(self, topic))
            emit("post", "post_created", tser.post(self, post, webhook=True))
            return post

    def _category_param(self, category: Any) -> int | None:
        """``TopicCreator#find_category``: an id, or a category name; unknown ones are refused."""
        if category in (None, ""):
            return None
        text = str(category)
        found = (
            self.categories.get(int(text))
            if text.isdigit()
            else next((c for c in self.categories.values() if c.name.lower() == text.lower()), None)
        )
        if found is None:
            raise LookupError("category")
        return found.id

    def _check_raw(self, author: User, raw: str, *, first_post: bool) -> None:
        errors = rules.raw_errors(raw, first_post=first_post, settings=self.settings)
        minutes = self.settings.unique_posts_mins
        if not errors and minutes > 0 and not author.staff:
            since = self.clock() - minutes * 60
            if any(
                p.user_id == author.id and p.raw.strip() == raw.strip() and p.created_at >= since
                for p in self.posts.values()
            ):
                errors.append("Body is too similar to what you recently posted")
        if errors:
            raise Invalid(errors)

    def _new_topic(
        self, author: User, title: str, category_id: int | None, external_id: str | None, now: float
    ) -> Topic:
        topic_id = self._next_id("topic")
        topic = Topic(
            id=topic_id,
            title=title,
            slug=slugify(title) or "topic",
            category_id=category_id,
            user_id=author.id,
            created_at=now,
            external_id=external_id,
            bumped_at=now,
            updated_at=now,
        )
        self.topics[topic_id] = topic
        return topic

    def _new_post(self, author: User, topic: Topic, raw: str, reply_to: int | None, now: float) -> Post:
        post = Post(
            id=self._next_id("post"),
            topic_id=topic.id,
            user_id=author.id,
            post_number=len(topic.post_ids) + 1,
            raw=raw,
            created_at=now,
            updated_at=now,
            reply_to_post_number=reply_to,
        )
        self.posts[post.id] = post
        topic.post_ids.append(post.id)
        topic.last_posted_at, topic.last_post_user_id, topic.updated_at = now, author.id, now
        return post

    def revise_post(self, post_id: int, raw: str) -> Post:
        """``PostRevisor`` on the body: a new version, ``post_edited``."""
        with self._change() as emit:
            post = self.posts[int(post_id)]
            errors = rules.raw_errors(raw, first_post=post.post_number == 1, settings=self.settings)
            if errors:
                raise Invalid(errors)
            if raw != post.raw:
                post.raw, post.version, post.updated_at = raw, post.version + 1, self.clock()
                emit("post", "post_edited", tser.post(self, post, webhook=True))
        return post

    def update_topic(self, topic_id: int, *, title: Any = None, category_id: Any = None) -> Topic:
        """``TopicsController#update``: retitle and recategorize; ``topic_edited`` when changed."""
        with self._change() as emit:
            topic = self.topics[int(topic_id)]
            changed = False
            if title is not None and rules.clean_title(title) != topic.title:
                title = rules.clean_title(title)
                errors = rules.title_errors(title, self.settings)
                if not errors and any(
                    t.id != topic.id and t.title.lower() == title.lower() for t in self.topics.values()
                ):
                    errors.append("Title has already been used")
                if errors:
                    raise Invalid(errors)
                topic.title, topic.slug, changed = title, slugify(title) or "topic", True
            if category_id not in (None, "") and int(category_id) != topic.category_id:
                if int(category_id) not in self.categories:
                    raise Invalid([rules.CATEGORY_NOT_FOUND])
                topic.category_id, changed = int(category_id), True
            if changed:
                topic.updated_at = self.clock()
                emit("topic", "topic_edited", tser.topic_webhook(self, topic))
        return topic

    def set_status(self, topic_id: int, status: str, enabled: bool) -> Topic:
        with self._change() as emit:
            topic = self.topics[int(topic_id)]
            if status in ("pinned", "pinned_globally"):
                topic.pinned_at = self.clock() if enabled else None
            else:
                setattr(topic, status, enabled)
            topic.updated_at = self.clock()
            emit("topic", f"topic_{status}_status_updated", tser.topic_webhook(self, topic))
        return topic
