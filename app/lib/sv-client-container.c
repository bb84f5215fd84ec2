/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-container.h"

#include <string.h>

#include "sv-client-format.h"

/* A container as the desktop app shows it: the D-Bus Container properties
 * of one object of servind's object manager, copied so that notify is
 * emitted only for the properties whose value changed. The values follow
 * the proxy's g-properties-changed; nothing polls. */
struct _SvClientContainer
{
  GObject parent_instance;

  SvDBusContainer *proxy;
  gulong properties_changed_id;

  char *id;
  char *name;
  char *image;
  char *image_id;
  char *command;
  char *state;
  int exit_code;
  guint64 created;
  guint64 started_at;
  guint64 finished_at;
  gboolean auto_remove;
  GStrv labels;
};

G_DEFINE_FINAL_TYPE (SvClientContainer, sv_client_container, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_IMAGE,
  PROP_IMAGE_ID,
  PROP_COMMAND,
  PROP_STATE,
  PROP_EXIT_CODE,
  PROP_CREATED,
  PROP_STARTED_AT,
  PROP_FINISHED_AT,
  PROP_AUTO_REMOVE,
  PROP_LABELS,
  PROP_OBJECT_PATH,
  PROP_STATUS_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Labels as sorted "key=value" strings, so that equal label sets compare
 * equal whatever order the dictionary arrived in. */
static GStrv
labels_from_variant (GVariant *labels)
{
  GPtrArray *strings = g_ptr_array_new ();
  GVariantIter iter;
  const char *key;
  const char *value;

  if (labels != NULL && g_variant_is_of_type (labels, G_VARIANT_TYPE ("a{ss}")))
    {
      g_variant_iter_init (&iter, labels);
      while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
        g_ptr_array_add (strings, g_strdup_printf ("%s=%s", key, value));
    }

  g_ptr_array_sort (strings, compare_strings);
  g_ptr_array_add (strings, NULL);
  return (GStrv)g_ptr_array_free (strings, FALSE);
}

/* Stores @value in @field and emits notify for @prop when it differs. */
static gboolean
update_string (SvClientContainer *self, char **field, const char *value, guint prop)
{
  if (value == NULL)
    value = "";
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  return TRUE;
}

static gboolean
update_uint64 (SvClientContainer *self, guint64 *field, guint64 value, guint prop)
{
  if (*field == value)
    return FALSE;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  return TRUE;
}

static void
update_labels (SvClientContainer *self)
{
  g_autoptr (GVariant) variant = sv_dbus_container_dup_labels (self->proxy);
  g_auto (GStrv) labels = labels_from_variant (variant);

  if (self->labels != NULL
      && g_strv_equal ((const char *const *)self->labels, (const char *const *)labels))
    return;
  g_strfreev (self->labels);
  self->labels = g_steal_pointer (&labels);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LABELS]);
}

/* Copies every property from the proxy's cache. Notifications are held back
 * until all values are stored, so a handler reads a consistent item. */
static void
sync_from_proxy (SvClientContainer *self)
{
  gboolean status_changed = FALSE;
  int exit_code = sv_dbus_container_get_exit_code (self->proxy);
  gboolean auto_remove = sv_dbus_container_get_auto_remove (self->proxy) != FALSE;

  g_object_freeze_notify (G_OBJECT (self));

  update_string (self, &self->id, sv_dbus_container_get_id (self->proxy), PROP_ID);
  update_string (self, &self->name, sv_dbus_container_get_name (self->proxy), PROP_NAME);
  update_string (self, &self->image, sv_dbus_container_get_image (self->proxy), PROP_IMAGE);
  update_string (self, &self->image_id, sv_dbus_container_get_image_id (self->proxy),
                 PROP_IMAGE_ID);
  update_string (self, &self->command, sv_dbus_container_get_command (self->proxy), PROP_COMMAND);
  status_changed
      |= update_string (self, &self->state, sv_dbus_container_get_state (self->proxy), PROP_STATE);
  if (self->exit_code != exit_code)
    {
      self->exit_code = exit_code;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXIT_CODE]);
      status_changed = TRUE;
    }
  update_uint64 (self, &self->created, sv_dbus_container_get_created (self->proxy), PROP_CREATED);
  status_changed |= update_uint64 (self, &self->started_at,
                                   sv_dbus_container_get_started_at (self->proxy), PROP_STARTED_AT);
  status_changed |= update_uint64 (
      self, &self->finished_at, sv_dbus_container_get_finished_at (self->proxy), PROP_FINISHED_AT);
  if (self->auto_remove != auto_remove)
    {
      self->auto_remove = auto_remove;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUTO_REMOVE]);
    }
  update_labels (self);

  if (status_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_TEXT]);

  g_object_thaw_notify (G_OBJECT (self));
}

static void
on_properties_changed_cb (GDBusProxy *proxy, GVariant *changed, GStrv invalidated,
                          SvClientContainer *self)
{
  sync_from_proxy (self);
}

static void
sv_client_container_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SvClientContainer *self = SV_CLIENT_CONTAINER (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_IMAGE:
      g_value_set_string (value, self->image);
      break;
    case PROP_IMAGE_ID:
      g_value_set_string (value, self->image_id);
      break;
    case PROP_COMMAND:
      g_value_set_string (value, self->command);
      break;
    case PROP_STATE:
      g_value_set_string (value, self->state);
      break;
    case PROP_EXIT_CODE:
      g_value_set_int (value, self->exit_code);
      break;
    case PROP_CREATED:
      g_value_set_uint64 (value, self->created);
      break;
    case PROP_STARTED_AT:
      g_value_set_uint64 (value, self->started_at);
      break;
    case PROP_FINISHED_AT:
      g_value_set_uint64 (value, self->finished_at);
      break;
    case PROP_AUTO_REMOVE:
      g_value_set_boolean (value, self->auto_remove);
      break;
    case PROP_LABELS:
      g_value_set_boxed (value, self->labels);
      break;
    case PROP_OBJECT_PATH:
      g_value_set_string (value, sv_client_container_get_object_path (self));
      break;
    case PROP_STATUS_TEXT:
      g_value_take_string (value, sv_client_container_dup_status_text (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sv_client_container_dispose (GObject *object)
{
  SvClientContainer *self = SV_CLIENT_CONTAINER (object);

  if (self->proxy != NULL)
    g_clear_signal_handler (&self->properties_changed_id, self->proxy);
  g_clear_object (&self->proxy);

  G_OBJECT_CLASS (sv_client_container_parent_class)->dispose (object);
}

static void
sv_client_container_finalize (GObject *object)
{
  SvClientContainer *self = SV_CLIENT_CONTAINER (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->image);
  g_free (self->image_id);
  g_free (self->command);
  g_free (self->state);
  g_strfreev (self->labels);

  G_OBJECT_CLASS (sv_client_container_parent_class)->finalize (object);
}

static GParamSpec *
string_property (const char *name)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static GParamSpec *
time_property (const char *name)
{
  return g_param_spec_uint64 (name, NULL, NULL, 0, G_MAXUINT64, 0,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static void
sv_client_container_class_init (SvClientContainerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = sv_client_container_get_property;
  object_class->dispose = sv_client_container_dispose;
  object_class->finalize = sv_client_container_finalize;

  properties[PROP_ID] = string_property ("id");
  properties[PROP_NAME] = string_property ("name");
  properties[PROP_IMAGE] = string_property ("image");
  properties[PROP_IMAGE_ID] = string_property ("image-id");
  properties[PROP_COMMAND] = string_property ("command");
  /* "created", "running" or "exited". */
  properties[PROP_STATE] = string_property ("state");
  /* Exit status once the state is "exited", or 128+N after signal N. */
  properties[PROP_EXIT_CODE]
      = g_param_spec_int ("exit-code", NULL, NULL, G_MININT, G_MAXINT, 0,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Unix times in seconds, 0 when the event has not happened. */
  properties[PROP_CREATED] = time_property ("created");
  properties[PROP_STARTED_AT] = time_property ("started-at");
  properties[PROP_FINISHED_AT] = time_property ("finished-at");
  properties[PROP_AUTO_REMOVE]
      = g_param_spec_boolean ("auto-remove", NULL, NULL, FALSE,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Sorted "key=value" strings. */
  properties[PROP_LABELS]
      = g_param_spec_boxed ("labels", NULL, NULL, G_TYPE_STRV,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OBJECT_PATH] = string_property ("object-path");
  /* docker ps' STATUS column. Its notify is emitted when the state, the
   * exit code or a time changes, not as time passes, so "Up 3 minutes"
   * ages only when the reader refreshes it. */
  properties[PROP_STATUS_TEXT] = string_property ("status-text");

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sv_client_container_init (SvClientContainer *self)
{
}

/**
 * sv_client_container_new:
 * @proxy: a container's proxy, from servind's object manager client
 *
 * Returns: (transfer full): an item that follows @proxy's properties
 */
SvClientContainer *
sv_client_container_new (SvDBusContainer *proxy)
{
  SvClientContainer *self;

  g_return_val_if_fail (SV_DBUS_IS_CONTAINER (proxy), NULL);

  self = g_object_new (SV_TYPE_CLIENT_CONTAINER, NULL);
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

/* The container's proxy, to call its methods. (transfer none) */
SvDBusContainer *
sv_client_container_get_proxy (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return self->proxy;
}

const char *
sv_client_container_get_id (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return self->id;
}

const char *
sv_client_container_get_name (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return self->name;
}

const char *
sv_client_container_get_image (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return self->image;
}

const char *
sv_client_container_get_image_id (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return self->image_id;
}

const char *
sv_client_container_get_command (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return self->command;
}

const char *
sv_client_container_get_state (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return self->state;
}

int
sv_client_container_get_exit_code (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), 0);
  return self->exit_code;
}

guint64
sv_client_container_get_created (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), 0);
  return self->created;
}

guint64
sv_client_container_get_started_at (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), 0);
  return self->started_at;
}

guint64
sv_client_container_get_finished_at (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), 0);
  return self->finished_at;
}

gboolean
sv_client_container_get_auto_remove (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), FALSE);
  return self->auto_remove;
}

const char *const *
sv_client_container_get_labels (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return (const char *const *)self->labels;
}

const char *
sv_client_container_get_object_path (SvClientContainer *self)
{
  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return g_dbus_proxy_get_object_path (G_DBUS_PROXY (self->proxy));
}

/**
 * sv_client_container_dup_status_text:
 * @self: a #SvClientContainer
 *
 * Formats the status as docker ps does, against the current time.
 *
 * Returns: (transfer full): "Created", "Up 3 minutes", "Exited (0) 5
 *   seconds ago"
 */
char *
sv_client_container_dup_status_text (SvClientContainer *self)
{
  guint64 now = (guint64)(g_get_real_time () / G_USEC_PER_SEC);

  g_return_val_if_fail (SV_IS_CLIENT_CONTAINER (self), NULL);
  return sv_client_format_status (self->state, self->exit_code, self->started_at, self->finished_at,
                                  now);
}
