/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-image.h"

#include "sv-client-format.h"
#include "sv-client-reference.h"

/* An image as the desktop app shows it: the D-Bus Image properties of one
 * object of servind's object manager, copied so that notify is emitted only
 * for the properties whose value changed. The values follow the proxy's
 * g-properties-changed; nothing polls. */
struct _SvClientImage
{
  GObject parent_instance;

  SvDBusImage *proxy;
  gulong properties_changed_id;

  char *id;
  char *short_id;
  GStrv repo_tags;
  GStrv display_tags;
  GStrv repo_digests;
  guint64 created;
  guint64 size;
  char *size_text;
  char *os;
  char *architecture;
};

G_DEFINE_FINAL_TYPE (SvClientImage, sv_client_image, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_SHORT_ID,
  PROP_REPO_TAGS,
  PROP_DISPLAY_TAGS,
  PROP_REPO_DIGESTS,
  PROP_CREATED,
  PROP_SIZE,
  PROP_SIZE_TEXT,
  PROP_OS,
  PROP_ARCHITECTURE,
  PROP_OBJECT_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
notify (SvClientImage *self, guint prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static gboolean
update_string (SvClientImage *self, char **field, const char *value, guint prop)
{
  if (value == NULL)
    value = "";
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  notify (self, prop);
  return TRUE;
}

static gboolean
update_strv (SvClientImage *self, GStrv *field, const char *const *value, guint prop)
{
  static const char *const empty[] = { NULL };

  if (value == NULL)
    value = empty;
  if (*field != NULL && g_strv_equal ((const char *const *)*field, value))
    return FALSE;
  g_strfreev (*field);
  *field = g_strdupv ((GStrv)value);
  notify (self, prop);
  return TRUE;
}

static gboolean
update_uint64 (SvClientImage *self, guint64 *field, guint64 value, guint prop)
{
  if (*field == value)
    return FALSE;
  *field = value;
  notify (self, prop);
  return TRUE;
}

/* The tags as docker images shows them: "servin/sample:latest" for
 * "docker.io/servin/sample:latest". */
static GStrv
familiar_tags (const char *const *repo_tags)
{
  guint length = g_strv_length ((GStrv)repo_tags);
  GStrv tags = g_new0 (char *, length + 1);

  for (guint i = 0; i < length; i++)
    tags[i] = sv_client_reference_familiar (repo_tags[i]);
  return tags;
}

/* Copies every property from the proxy's cache and the values computed from
 * them. Notifications are held back until all values are stored, so a
 * handler reads a consistent item. */
static void
sync_from_proxy (SvClientImage *self)
{
  g_object_freeze_notify (G_OBJECT (self));

  if (update_string (self, &self->id, sv_dbus_image_get_id (self->proxy), PROP_ID))
    {
      g_autofree char *short_id = sv_client_format_short_id (self->id);

      update_string (self, &self->short_id, short_id, PROP_SHORT_ID);
    }
  if (update_strv (self, &self->repo_tags, sv_dbus_image_get_repo_tags (self->proxy),
                   PROP_REPO_TAGS))
    {
      g_auto (GStrv) display_tags = familiar_tags ((const char *const *)self->repo_tags);

      update_strv (self, &self->display_tags, (const char *const *)display_tags, PROP_DISPLAY_TAGS);
    }
  update_strv (self, &self->repo_digests, sv_dbus_image_get_repo_digests (self->proxy),
               PROP_REPO_DIGESTS);
  update_uint64 (self, &self->created, sv_dbus_image_get_created (self->proxy), PROP_CREATED);
  if (update_uint64 (self, &self->size, sv_dbus_image_get_size (self->proxy), PROP_SIZE)
      || self->size_text == NULL)
    {
      g_autofree char *size_text = sv_client_format_size (self->size);

      update_string (self, &self->size_text, size_text, PROP_SIZE_TEXT);
    }
  update_string (self, &self->os, sv_dbus_image_get_os (self->proxy), PROP_OS);
  update_string (self, &self->architecture, sv_dbus_image_get_architecture (self->proxy),
                 PROP_ARCHITECTURE);

  g_object_thaw_notify (G_OBJECT (self));
}

static void
on_properties_changed_cb (GDBusProxy *proxy, GVariant *changed, GStrv invalidated,
                          SvClientImage *self)
{
  sync_from_proxy (self);
}

static void
sv_client_image_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SvClientImage *self = SV_CLIENT_IMAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_SHORT_ID:
      g_value_set_string (value, self->short_id);
      break;
    case PROP_REPO_TAGS:
      g_value_set_boxed (value, self->repo_tags);
      break;
    case PROP_DISPLAY_TAGS:
      g_value_set_boxed (value, self->display_tags);
      break;
    case PROP_REPO_DIGESTS:
      g_value_set_boxed (value, self->repo_digests);
      break;
    case PROP_CREATED:
      g_value_set_uint64 (value, self->created);
      break;
    case PROP_SIZE:
      g_value_set_uint64 (value, self->size);
      break;
    case PROP_SIZE_TEXT:
      g_value_set_string (value, self->size_text);
      break;
    case PROP_OS:
      g_value_set_string (value, self->os);
      break;
    case PROP_ARCHITECTURE:
      g_value_set_string (value, self->architecture);
      break;
    case PROP_OBJECT_PATH:
      g_value_set_string (value, sv_client_image_get_object_path (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sv_client_image_dispose (GObject *object)
{
  SvClientImage *self = SV_CLIENT_IMAGE (object);

  if (self->proxy != NULL)
    g_clear_signal_handler (&self->properties_changed_id, self->proxy);
  g_clear_object (&self->proxy);

  G_OBJECT_CLASS (sv_client_image_parent_class)->dispose (object);
}

static void
sv_client_image_finalize (GObject *object)
{
  SvClientImage *self = SV_CLIENT_IMAGE (object);

  g_free (self->id);
  g_free (self->short_id);
  g_strfreev (self->repo_tags);
  g_strfreev (self->display_tags);
  g_strfreev (self->repo_digests);
  g_free (self->size_text);
  g_free (self->os);
  g_free (self->architecture);

  G_OBJECT_CLASS (sv_client_image_parent_class)->finalize (object);
}

#define READ_FLAGS (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS)

static void
sv_client_image_class_init (SvClientImageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = sv_client_image_get_property;
  object_class->dispose = sv_client_image_dispose;
  object_class->finalize = sv_client_image_finalize;

  /* "sha256:" and 64 hex digits. */
  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, READ_FLAGS);
  /* The first 12 hex digits of the id, as docker images shows it. */
  properties[PROP_SHORT_ID] = g_param_spec_string ("short-id", NULL, NULL, NULL, READ_FLAGS);
  /* Full references: "docker.io/servin/sample:latest". */
  properties[PROP_REPO_TAGS]
      = g_param_spec_boxed ("repo-tags", NULL, NULL, G_TYPE_STRV, READ_FLAGS);
  /* The repo-tags as docker shows them: "servin/sample:latest". */
  properties[PROP_DISPLAY_TAGS]
      = g_param_spec_boxed ("display-tags", NULL, NULL, G_TYPE_STRV, READ_FLAGS);
  properties[PROP_REPO_DIGESTS]
      = g_param_spec_boxed ("repo-digests", NULL, NULL, G_TYPE_STRV, READ_FLAGS);
  /* Unix time in seconds. */
  properties[PROP_CREATED]
      = g_param_spec_uint64 ("created", NULL, NULL, 0, G_MAXUINT64, 0, READ_FLAGS);
  /* Bytes. */
  properties[PROP_SIZE] = g_param_spec_uint64 ("size", NULL, NULL, 0, G_MAXUINT64, 0, READ_FLAGS);
  /* The size as docker images shows it: "1.98MB". */
  properties[PROP_SIZE_TEXT] = g_param_spec_string ("size-text", NULL, NULL, NULL, READ_FLAGS);
  properties[PROP_OS] = g_param_spec_string ("os", NULL, NULL, NULL, READ_FLAGS);
  properties[PROP_ARCHITECTURE]
      = g_param_spec_string ("architecture", NULL, NULL, NULL, READ_FLAGS);
  properties[PROP_OBJECT_PATH] = g_param_spec_string ("object-path", NULL, NULL, NULL, READ_FLAGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sv_client_image_init (SvClientImage *self)
{
}

/**
 * sv_client_image_new:
 * @proxy: an image's proxy, from servind's object manager client
 *
 * Returns: (transfer full): an item that follows @proxy's properties
 */
SvClientImage *
sv_client_image_new (SvDBusImage *proxy)
{
  SvClientImage *self;

  g_return_val_if_fail (SV_DBUS_IS_IMAGE (proxy), NULL);

  self = g_object_new (SV_TYPE_CLIENT_IMAGE, NULL);
  self->proxy = g_object_ref (proxy);
  sync_from_proxy (self);
  /* After the generated proxy's own handler, which drops the arrays it
   * decoded from the replaced property values. Before it, the getters of
   * array properties return freed memory. */
  if (G_IS_DBUS_PROXY (proxy))
    self->properties_changed_id = g_signal_connect_after (
        proxy, "g-properties-changed", G_CALLBACK (on_properties_changed_cb), self);
  return self;
}

/* The image's proxy, to call its methods. (transfer none) */
SvDBusImage *
sv_client_image_get_proxy (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return self->proxy;
}

const char *
sv_client_image_get_id (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return self->id;
}

const char *
sv_client_image_get_short_id (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return self->short_id;
}

const char *const *
sv_client_image_get_repo_tags (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return (const char *const *)self->repo_tags;
}

const char *const *
sv_client_image_get_display_tags (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return (const char *const *)self->display_tags;
}

const char *const *
sv_client_image_get_repo_digests (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return (const char *const *)self->repo_digests;
}

guint64
sv_client_image_get_created (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), 0);
  return self->created;
}

guint64
sv_client_image_get_size (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), 0);
  return self->size;
}

const char *
sv_client_image_get_size_text (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return self->size_text;
}

const char *
sv_client_image_get_os (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return self->os;
}

const char *
sv_client_image_get_architecture (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return self->architecture;
}

const char *
sv_client_image_get_object_path (SvClientImage *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_IMAGE (self), NULL);
  return g_dbus_proxy_get_object_path (G_DBUS_PROXY (self->proxy));
}
