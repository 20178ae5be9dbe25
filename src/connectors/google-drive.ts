/**
 * Google Drive API v3: create files and folders (metadata only), upload a small text file
 * (a multipart upload of metadata and content), list files with a search query, change a
 * file's metadata, share a file. Checked against Google's discovery document
 * (schemas/vendor-specs/google-drive.json), read through the discovery adapter of the
 * contract check, which also decodes the upload's parts. Errors read as
 * "Google Drive: <reason>: <message>"; lists page with pageToken/nextPageToken. Drive has no
 * idempotency key for creates: a retried create after a lost answer can make a second file.
 */
import { googleErrorOf, googleRetryable, pageToken } from './google-common.js';
import { googleOAuth } from './oauth/providers.js';
import { DEFAULT_TEXT_TYPE, TEXT_CONTENT_FIELDS, type ConnectorSpec, type FieldSpec } from './spec.js';
import { renamed } from './vendor-text.js';

const fileId: FieldSpec = { type: 'string', in: 'path', name: 'fileId', required: true, description: 'The file ID (the `id` of a created or listed file).', example: '1ZdR3L3qP4Bkq8noWLJHSr_iBau0DNT4Kli4SxNc2YEo' };
const supportsAllDrives: FieldSpec = { type: 'boolean', in: 'query', name: 'supportsAllDrives', description: 'Set true when the file is (or goes) in a shared drive.' };
const parents: FieldSpec = { type: 'array', description: 'The folder to put it in (one folder ID); default My Drive.', items: { type: 'string', description: 'A folder ID.' }, example: ['0B1yKqkBEA4_FUmVWNEJ6ZE1lVnc'] };
const description: FieldSpec = { type: 'string', description: 'A short description of the file.' };
const appProperties: FieldSpec = { type: 'object', description: 'Your own key-value pairs (strings), private to your app, e.g. an order ID to find the file by later.', example: { order_id: '6735' } };

/** Drive's File metadata from the flux fields (names as Google spells them). */
function fileMetadata(f: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return renamed(f, { name: 'name', mime_type: 'mimeType', parents: 'parents', description: 'description', starred: 'starred', trashed: 'trashed', app_properties: 'appProperties' });
}

const FILE_OUTPUT = "Drive's File: `{ kind, id, name, mimeType }` (more with a `fields` selector on a raw request); `id` is the file ID.";

export const googleDriveSpec: ConnectorSpec = {
  name: 'google_drive',
  vendor: 'Google Drive',
  category: 'documents',
  summary: 'Google Drive: create folders and files, upload small text files, list, update and share files.',
  baseUrl: 'https://www.googleapis.com',
  auth: ['bearer', 'oauth2'],
  oauth: googleOAuth(['drive']),
  vendorCheck: { checked: true, file: 'google-drive.json', format: 'google-discovery' },
  errorOf: googleErrorOf('Google Drive'),
  retryable: googleRetryable,
  operations: {
    create_file: {
      summary: 'Create a file with no content: a folder, an empty Google Doc or Sheet, or a shortcut.',
      http: { method: 'POST', path: '/drive/v3/files', body: 'json', buildBody: fileMetadata },
      fields: {
        name: { type: 'string', description: 'File or folder name.', required: true, example: 'Acme Corp - Contracts' },
        mime_type: {
          type: 'string', description: 'What to create: application/vnd.google-apps.folder for a folder, application/vnd.google-apps.document for a Google Doc, ...',
          example: 'application/vnd.google-apps.folder',
        },
        parents,
        description,
        starred: { type: 'boolean', description: 'Star it.' },
        app_properties: appProperties,
        supports_all_drives: supportsAllDrives,
      },
      output: FILE_OUTPUT,
    },
    upload_file: {
      summary: 'Upload a small text file (up to 5 MiB), optionally converting it to a Google Doc.',
      http: {
        method: 'POST', path: '/upload/drive/v3/files', query: { uploadType: 'multipart' }, body: 'multipart/related',
        parts: (f) => [
          { contentType: 'application/json; charset=UTF-8', content: JSON.stringify(fileMetadata(f)) },
          { contentType: typeof f.content_type === 'string' ? f.content_type : DEFAULT_TEXT_TYPE, content: String(f.content ?? '') },
        ],
      },
      fields: {
        name: { type: 'string', description: 'File name.', required: true, example: 'invoice-000123.csv' },
        ...TEXT_CONTENT_FIELDS,
        mime_type: { type: 'string', description: 'Store it as this type instead: application/vnd.google-apps.document (or .spreadsheet) converts it to a Google Doc (or Sheet).' },
        parents,
        description,
        app_properties: appProperties,
        supports_all_drives: supportsAllDrives,
      },
      output: FILE_OUTPUT,
    },
    list_files: {
      summary: "List or search files with Drive's query language.",
      http: { method: 'GET', path: '/drive/v3/files' },
      fields: {
        q: { type: 'string', in: 'query', description: "A Drive search query, e.g. name contains 'invoice' and trashed = false, or '<folder id>' in parents.", example: "name contains 'invoice' and trashed = false" },
        page_size: { type: 'integer', in: 'query', name: 'pageSize', minimum: 1, maximum: 1000, description: 'Files per page (Google: default 100, at most 1000).', example: 100 },
        order_by: { type: 'string', in: 'query', name: 'orderBy', description: 'Sort keys, e.g. modifiedTime desc,name.', example: 'modifiedTime desc' },
        fields: { type: 'string', in: 'query', description: "Which fields of each file to return, e.g. nextPageToken, files(id, name, webViewLink); keep nextPageToken when paginating.", example: 'nextPageToken, files(id, name, mimeType, webViewLink)' },
        spaces: { type: 'string', in: 'query', enum: ['drive', 'appDataFolder'], description: 'Which space to search.' },
        corpora: { type: 'string', in: 'query', enum: ['user', 'domain', 'drive', 'allDrives'], description: 'Which files: the user\'s (default), the domain\'s, one shared drive\'s, or all.' },
        drive_id: { type: 'string', in: 'query', name: 'driveId', description: 'With corpora: drive, the shared drive to search.' },
        include_items_from_all_drives: { type: 'boolean', in: 'query', name: 'includeItemsFromAllDrives', description: 'Include files in shared drives.' },
        supports_all_drives: supportsAllDrives,
        page_token: pageToken,
      },
      pagination: { cursorField: 'page_token', nextCursor: 'nextPageToken', items: 'files' },
      output: "Drive's FileList: `{ files, nextPageToken }`; with paginate: `{ items, count, has_more, next_cursor }`.",
    },
    update_file: {
      summary: "Change a file's metadata: rename, describe, star, trash, or move it between folders.",
      http: { method: 'PATCH', path: '/drive/v3/files/{fileId}', body: 'json', buildBody: fileMetadata },
      fields: {
        file_id: fileId,
        name: { type: 'string', description: 'New name.', example: 'Acme Corp - Contracts (2026)' },
        description,
        starred: { type: 'boolean', description: 'Star or unstar it.' },
        trashed: { type: 'boolean', description: 'Move it to the trash (true) or restore it (false).' },
        app_properties: appProperties,
        add_parents: { type: 'string', in: 'query', name: 'addParents', description: 'Folder IDs to add it to, comma-separated (with remove_parents: a move).' },
        remove_parents: { type: 'string', in: 'query', name: 'removeParents', description: 'Folder IDs to take it out of, comma-separated.' },
        supports_all_drives: supportsAllDrives,
      },
      output: FILE_OUTPUT,
    },
    share_file: {
      summary: 'Share a file or folder with a person, a group, a domain or anyone with the link.',
      http: {
        method: 'POST', path: '/drive/v3/files/{fileId}/permissions', body: 'json',
        buildBody: (f) => renamed(f, { role: 'role', type: 'type', email_address: 'emailAddress', domain: 'domain', allow_file_discovery: 'allowFileDiscovery', expiration_time: 'expirationTime' }),
      },
      fields: {
        file_id: fileId,
        role: { type: 'string', required: true, enum: ['owner', 'organizer', 'fileOrganizer', 'writer', 'commenter', 'reader'], description: 'What they may do.', example: 'reader' },
        type: { type: 'string', required: true, enum: ['user', 'group', 'domain', 'anyone'], description: 'Who: a user or group (by email_address), a domain, or anyone with the link.', example: 'user' },
        email_address: { type: 'string', format: 'email', description: 'The user or group, for type user or group.', example: 'maria@acme.example' },
        domain: { type: 'string', description: 'The domain, for type domain (example.com).' },
        allow_file_discovery: { type: 'boolean', description: 'For type domain or anyone: whether it shows up in search.' },
        expiration_time: { type: 'string', format: 'date-time', description: 'When the access ends (RFC 3339).' },
        send_notification_email: { type: 'boolean', in: 'query', name: 'sendNotificationEmail', description: 'Email the person about it (Google: default true for users and groups).' },
        email_message: { type: 'string', in: 'query', name: 'emailMessage', description: 'A message to put in that email.', example: 'The contract for your review.' },
        supports_all_drives: supportsAllDrives,
      },
      output: "Drive's Permission: `{ kind, id, type, role }`.",
    },
  },
};
