/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-image-private.h"

#include "sv-engine-error.h"
#include "sv-reference.h"

struct _SvImage
{
  GObject parent_instance;

  char *id;
  char *manifest_digest;
  gint64 created;
  guint64 size;
  char *os;
  char *architecture;
  char *variant;
  GStrv diff_ids;
  GStrv layer_digests;
  JsonObject *config_document;
  JsonObject *config;

  /* Replaced as a whole under the lock; see sv_image_get_repo_tags. */
  GMutex lock;
  GStrv repo_tags;
  GStrv repo_digests;
  GPtrArray *old_lists;
};

enum
{
  PROP_0,
  PROP_ID,
  PROP_REPO_TAGS,
  PROP_REPO_DIGESTS,
  PROP_MANIFEST_DIGEST,
  PROP_CREATED,
  PROP_SIZE,
  PROP_OS,
  PROP_ARCHITECTURE,
  PROP_VARIANT,
  PROP_DIFF_IDS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

G_DEFINE_TYPE (SvImage, sv_image, G_TYPE_OBJECT)

static void
sv_image_finalize (GObject *object)
{
  SvImage *self = SV_IMAGE (object);

  g_free (self->id);
  g_free (self->manifest_digest);
  g_free (self->os);
  g_free (self->architecture);
  g_free (self->variant);
  g_strfreev (self->diff_ids);
  g_strfreev (self->layer_digests);
  g_clear_pointer (&self->config_document, json_object_unref);
  g_clear_pointer (&self->config, json_object_unref);
  g_strfreev (self->repo_tags);
  g_strfreev (self->repo_digests);
  g_ptr_array_unref (self->old_lists);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (sv_image_parent_class)->finalize (object);
}

static void
sv_image_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SvImage *self = SV_IMAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_REPO_TAGS:
      g_value_take_boxed (value, sv_image_dup_repo_tags (self));
      break;
    case PROP_REPO_DIGESTS:
      g_value_take_boxed (value, sv_image_dup_repo_digests (self));
      break;
    case PROP_MANIFEST_DIGEST:
      g_value_set_string (value, self->manifest_digest);
      break;
    case PROP_CREATED:
      g_value_set_int64 (value, self->created);
      break;
    case PROP_SIZE:
      g_value_set_uint64 (value, self->size);
      break;
    case PROP_OS:
      g_value_set_string (value, self->os);
      break;
    case PROP_ARCHITECTURE:
      g_value_set_string (value, self->architecture);
      break;
    case PROP_VARIANT:
      g_value_set_string (value, self->variant);
      break;
    case PROP_DIFF_IDS:
      g_value_set_boxed (value, self->diff_ids);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sv_image_class_init (SvImageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sv_image_finalize;
  object_class->get_property = sv_image_get_property;

  props[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  props[PROP_REPO_TAGS]
      = g_param_spec_boxed ("repo-tags", NULL, NULL, G_TYPE_STRV, flags | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_REPO_DIGESTS] = g_param_spec_boxed ("repo-digests", NULL, NULL, G_TYPE_STRV,
                                                 flags | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_MANIFEST_DIGEST] = g_param_spec_string ("manifest-digest", NULL, NULL, NULL, flags);
  props[PROP_CREATED] = g_param_spec_int64 ("created", NULL, NULL, 0, G_MAXINT64, 0, flags);
  props[PROP_SIZE] = g_param_spec_uint64 ("size", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  props[PROP_OS] = g_param_spec_string ("os", NULL, NULL, NULL, flags);
  props[PROP_ARCHITECTURE] = g_param_spec_string ("architecture", NULL, NULL, NULL, flags);
  props[PROP_VARIANT] = g_param_spec_string ("variant", NULL, NULL, NULL, flags);
  props[PROP_DIFF_IDS] = g_param_spec_boxed ("diff-ids", NULL, NULL, G_TYPE_STRV, flags);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
sv_image_init (SvImage *self)
{
  g_mutex_init (&self->lock);
  self->repo_tags = g_new0 (char *, 1);
  self->repo_digests = g_new0 (char *, 1);
  self->old_lists = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
}

static char *
dup_member_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return g_strdup (json_node_get_string (node));
}

static gboolean
parse_diff_ids (SvImage *self, JsonObject *doc, GError **error)
{
  JsonObject *rootfs = NULL;
  JsonArray *ids = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  if (json_object_has_member (doc, "rootfs")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (doc, "rootfs")))
    rootfs = json_object_get_object_member (doc, "rootfs");
  if (rootfs != NULL && json_object_has_member (rootfs, "diff_ids")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (rootfs, "diff_ids")))
    ids = json_object_get_array_member (rootfs, "diff_ids");

  if (ids == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "image config %s has no rootfs.diff_ids list", self->id);
      return FALSE;
    }

  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonNode *node = json_array_get_element (ids, i);
      const char *diff_id = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_string (node) : NULL;

      if (!sv_digest_is_valid (diff_id))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "image config %s has an invalid diff_id at position %u", self->id, i);
          return FALSE;
        }
      g_ptr_array_add (out, g_strdup (diff_id));
    }

  g_ptr_array_add (out, NULL);
  self->diff_ids = (GStrv)g_ptr_array_free (g_steal_pointer (&out), FALSE);
  return TRUE;
}

static gint64
parse_created (JsonObject *doc)
{
  g_autofree char *text = dup_member_string (doc, "created");
  g_autoptr (GDateTime) dt = NULL;

  if (text == NULL)
    return 0;

  dt = g_date_time_new_from_iso8601 (text, NULL);
  return dt != NULL ? MAX (g_date_time_to_unix (dt), 0) : 0;
}

SvImage *
sv_image_new (const char *id, const char *manifest_digest, JsonObject *config_document,
              const char *const *layer_digests, guint64 size, GError **error)
{
  g_autoptr (SvImage) self = g_object_new (SV_TYPE_IMAGE, NULL);
  JsonNode *config;

  self->id = g_strdup (id);
  self->manifest_digest = g_strdup (manifest_digest);
  self->config_document = json_object_ref (config_document);
  self->layer_digests = g_strdupv ((GStrv)layer_digests);
  if (self->layer_digests == NULL)
    self->layer_digests = g_new0 (char *, 1);
  self->size = size;

  self->os = dup_member_string (config_document, "os");
  self->architecture = dup_member_string (config_document, "architecture");
  self->variant = dup_member_string (config_document, "variant");
  self->created = parse_created (config_document);

  config = json_object_get_member (config_document, "config");
  if (config != NULL && JSON_NODE_HOLDS_OBJECT (config))
    self->config = json_object_ref (json_node_get_object (config));
  else
    self->config = json_object_new ();

  if (!parse_diff_ids (self, config_document, error))
    return NULL;

  return g_steal_pointer (&self);
}

static gboolean
strv_equal (const char *const *a, const char *const *b)
{
  return g_strv_equal ((const char **)a, (const char **)b);
}

gboolean
sv_image_set_references (SvImage *self, const char *const *repo_tags,
                         const char *const *repo_digests)
{
  gboolean tags_changed, digests_changed;

  g_mutex_lock (&self->lock);
  tags_changed = !strv_equal ((const char *const *)self->repo_tags, repo_tags);
  digests_changed = !strv_equal ((const char *const *)self->repo_digests, repo_digests);

  /* Arrays handed out by the getters stay valid for the life of the image. */
  if (tags_changed)
    {
      g_ptr_array_add (self->old_lists, self->repo_tags);
      self->repo_tags = g_strdupv ((GStrv)repo_tags);
    }
  if (digests_changed)
    {
      g_ptr_array_add (self->old_lists, self->repo_digests);
      self->repo_digests = g_strdupv ((GStrv)repo_digests);
    }
  g_mutex_unlock (&self->lock);

  if (tags_changed)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_REPO_TAGS]);
  if (digests_changed)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_REPO_DIGESTS]);

  return tags_changed || digests_changed;
}

const char *
sv_image_get_id (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return self->id;
}

const char *const *
sv_image_get_repo_tags (SvImage *self)
{
  const char *const *tags;

  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  g_mutex_lock (&self->lock);
  tags = (const char *const *)self->repo_tags;
  g_mutex_unlock (&self->lock);
  return tags;
}

const char *const *
sv_image_get_repo_digests (SvImage *self)
{
  const char *const *digests;

  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  g_mutex_lock (&self->lock);
  digests = (const char *const *)self->repo_digests;
  g_mutex_unlock (&self->lock);
  return digests;
}

GStrv
sv_image_dup_repo_tags (SvImage *self)
{
  GStrv copy;

  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  g_mutex_lock (&self->lock);
  copy = g_strdupv (self->repo_tags);
  g_mutex_unlock (&self->lock);
  return copy;
}

GStrv
sv_image_dup_repo_digests (SvImage *self)
{
  GStrv copy;

  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  g_mutex_lock (&self->lock);
  copy = g_strdupv (self->repo_digests);
  g_mutex_unlock (&self->lock);
  return copy;
}

const char *
sv_image_get_manifest_digest (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return self->manifest_digest;
}

gint64
sv_image_get_created (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), 0);
  return self->created;
}

guint64
sv_image_get_size (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), 0);
  return self->size;
}

const char *
sv_image_get_os (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return self->os;
}

const char *
sv_image_get_architecture (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return self->architecture;
}

const char *
sv_image_get_variant (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return self->variant;
}

const char *const *
sv_image_get_diff_ids (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return (const char *const *)self->diff_ids;
}

const char *const *
sv_image_get_layer_digests (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return (const char *const *)self->layer_digests;
}

JsonObject *
sv_image_get_config (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return self->config;
}

JsonObject *
sv_image_get_config_document (SvImage *self)
{
  g_return_val_if_fail (SV_IS_IMAGE (self), NULL);
  return self->config_document;
}
