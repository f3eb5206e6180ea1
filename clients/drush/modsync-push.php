<?php
// modsync-push: sends a Drupal site's extensions (drush pm:list) to modsync.
// Dependency-free: PHP 8.1+ with the curl extension (zlib for gzip bodies).
// Usage, exit codes and variables: see usage() below and the README's
// "Integrating a Drupal site".

declare(strict_types=1);

// stdout carries only the result: PHP's own notices go to stderr, and any of
// them is a bug that stops the run (exit 1) rather than send something half-built.
ini_set('display_errors', 'stderr');
set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    if ((error_reporting() & $severity) === 0) return false; // silenced with @ where a failure is handled
    throw new ErrorException($message, 0, $severity, $file, $line);
});

const VERSION = '1.0.0';
/** Bodies larger than this are sent gzip-compressed (modsync reads Content-Encoding: gzip). */
const GZIP_OVER_BYTES = 65536;
/** Drupal's extension-name rule, as modsync checks it. */
const MACHINE_NAME = '/^[a-z][a-z0-9_]{0,49}$/';

// Exit codes: distinct so that cron wrappers and monitoring can tell them apart.
const EXIT_OK = 0;
const EXIT_INTERNAL = 1;       // a bug of this script (uncaught error)
const EXIT_USAGE = 2;          // bad flag or missing setting
const EXIT_INPUT = 3;          // drush output unreadable, or nothing to send
const EXIT_NETWORK = 4;        // modsync not reached (DNS, connection, TLS, timeout)
const EXIT_AUTH = 5;           // 401/403: token wrong, rotated, or not this site's
const EXIT_REFUSED = 6;        // 400/404/409/413/415/422: the payload or site id is wrong
const EXIT_RATE_LIMITED = 7;   // 429: Retry-After printed; try again after it
const EXIT_SERVER = 8;         // 5xx (503: site busy): transient, try again later
const EXIT_TASK_FAILED = 9;    // the background task ran and failed
const EXIT_TASK_UNKNOWN = 10;  // accepted as a task, but its outcome is not known (--wait passed, or status unreadable)

final class Failure extends RuntimeException
{
    public function __construct(string $message, public readonly int $exitCode)
    {
        parent::__construct($message);
    }
}

function usage(): string
{
    return <<<'TXT'
    Usage: drush pm:list --format=json --type=module,theme,profile --fields=name,display_name,type,status,version,project,path \
             | php modsync-push.php --status-file=<(drush status --format=json) [options] [PM_LIST_FILE]

    Sends the site's modules, themes and install profile to modsync: a full sync
    (modules absent from the input are removed) unless --partial.

    Input
      PM_LIST_FILE            drush pm:list --format=json output; "-" or absent: stdin
      --status-file=FILE      drush status --format=json output (core and PHP versions);
                              without it: core version from the system module, PHP from this PHP

    Settings (flag, or environment variable)
      --server=URL            MODSYNC_URL        modsync's base URL, e.g. https://modsync.example
      --site-id=N             MODSYNC_SITE_ID    the site's id in modsync
      --site-url=URL          MODSYNC_SITE_URL   the site's registered URL (default: drush status uri)
      --site-name=NAME        MODSYNC_SITE_NAME  the site's name as modsync shows it
      --ip-address=IP         MODSYNC_IP_ADDRESS optional: the site's IP address
                              MODSYNC_SITE_TOKEN the site token, sent as the bearer (environment
                                                 only: a flag would show in the process list)
                              MODSYNC_API_TOKEN  optional, for servers older than site-token bearers:
                                                 a person's API token as the bearer instead
      --partial               partial sync: only add and update, remove nothing
      --wait=SECONDS          how long to follow a background sync (default 900)
      --timeout=SECONDS       HTTP timeout per request (default 300)
      --dry-run               print the payload and exit, sending nothing
      --json                  print modsync's result as JSON instead of a sentence
      --help, --version

    Exit codes
      0 synced   2 usage   3 bad input   4 network   5 token refused (401/403)
      6 payload or site refused (4xx)   7 rate limited (429; Retry-After printed)
      8 server error or busy (5xx)   9 background sync failed
      10 background sync accepted, outcome unknown   1 internal error
    TXT;
}

/** @return array{options: array<string, string|true>, args: list<string>} */
function parseArgs(array $argv): array
{
    $valued = ['server', 'site-id', 'site-url', 'site-name', 'ip-address', 'status-file', 'wait', 'timeout'];
    $flags = ['partial', 'dry-run', 'json', 'help', 'version'];
    $options = [];
    $args = [];
    for ($i = 1; $i < count($argv); $i++) {
        $arg = $argv[$i];
        if ($arg === '--') {
            array_push($args, ...array_slice($argv, $i + 1));
            break;
        }
        if (!str_starts_with($arg, '--') || $arg === '-') {
            $args[] = $arg;
            continue;
        }
        [$name, $value] = array_pad(explode('=', substr($arg, 2), 2), 2, null);
        if (in_array($name, $flags, true) && $value === null) {
            $options[$name] = true;
        } elseif (in_array($name, $valued, true)) {
            if ($value === null) {
                if (!isset($argv[$i + 1])) throw new Failure("--$name needs a value", EXIT_USAGE);
                $value = $argv[++$i];
            }
            $options[$name] = $value;
        } elseif ($name === 'token' || $name === 'site-token') {
            throw new Failure("--$name is not accepted: a token on the command line is readable by every local user; set MODSYNC_SITE_TOKEN", EXIT_USAGE);
        } else {
            throw new Failure("unknown option --$name (see --help)", EXIT_USAGE);
        }
    }
    if (count($args) > 1) throw new Failure('at most one input file (see --help)', EXIT_USAGE);
    return ['options' => $options, 'args' => $args];
}

/** The flag's value, else the environment variable's, else null (blank counts as unset). */
function setting(array $options, string $flag, string $env): ?string
{
    $value = $options[$flag] ?? getenv($env);
    if (!is_string($value) || trim($value) === '') return null;
    return trim($value);
}

function seconds(array $options, string $flag, int $default): int
{
    if (!isset($options[$flag])) return $default;
    $value = $options[$flag];
    if (!is_string($value) || !ctype_digit($value) || (int) $value < 1) {
        throw new Failure("--$flag must be a whole number of seconds, at least 1", EXIT_USAGE);
    }
    return (int) $value;
}

function readJsonDocument(string $path, string $what): array
{
    $text = $path === '-' ? stream_get_contents(STDIN) : @file_get_contents($path);
    if ($text === false) throw new Failure("cannot read $what from $path", EXIT_INPUT);
    try {
        $data = json_decode($text, true, 64, JSON_THROW_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);
    } catch (JsonException $e) {
        throw new Failure("$what is not JSON ({$e->getMessage()}); use --format=json", EXIT_INPUT);
    }
    if (!is_array($data)) throw new Failure("$what must be a JSON object or array", EXIT_INPUT);
    return $data;
}

/** core (ships with Drupal), contrib (a drupal.org project), or custom (the site's own). */
function moduleType(string $path, string $project): string
{
    if (str_starts_with($path, 'core/') || $project === 'drupal') return 'core';
    if ($project !== '' || preg_match('#(^|/)contrib/#', $path) === 1) return 'contrib';
    return 'custom';
}

/**
 * One pm:list row as a modsync module entry, or null for what modsync does
 * not track. drush prints display_name as "Label (machine_name)".
 */
function moduleEntry(string $key, array $row): ?array
{
    $type = strtolower((string) ($row['type'] ?? 'module'));
    if (!in_array($type, ['module', 'theme', 'profile'], true)) return null;
    $name = (string) ($row['name'] ?? $key);
    $path = (string) ($row['path'] ?? '');
    $project = (string) ($row['project'] ?? '');
    $label = (string) ($row['display_name'] ?? '');
    $suffix = " ($name)";
    if (str_ends_with($label, $suffix)) $label = substr($label, 0, -strlen($suffix));
    $version = $row['version'] ?? null;
    $moduleType = moduleType($path, $project);
    $entryProject = $moduleType === 'core' ? 'drupal' : ($moduleType === 'contrib' ? $project : '');
    return [
        'machine_name' => $name,
        'display_name' => trim($label) === '' ? $name : $label,
        'module_type' => $moduleType,
        'extension_type' => $type,
        'enabled' => strtolower((string) ($row['status'] ?? '')) === 'enabled',
        'version' => is_string($version) && $version !== '' ? $version : null,
        'project' => preg_match(MACHINE_NAME, $entryProject) === 1 ? $entryProject : null,
    ];
}

/** @return list<array> the entries of drush pm:list --format=json (an object keyed by name, or a list). */
function moduleEntries(array $pmList): array
{
    $entries = [];
    foreach ($pmList as $key => $row) {
        if (!is_array($row)) throw new Failure('pm:list JSON must hold one object per extension', EXIT_INPUT);
        $entry = moduleEntry((string) $key, $row);
        if ($entry !== null) $entries[] = $entry;
    }
    return $entries;
}

function coreVersion(array $status, array $entries): ?string
{
    $version = $status['drupal-version'] ?? null;
    if (is_string($version) && $version !== '') return $version;
    foreach ($entries as $entry) {
        if ($entry['machine_name'] === 'system' && $entry['module_type'] === 'core') return $entry['version'];
    }
    return null;
}

function buildPayload(array $settings, array $entries, array $status): array
{
    $core = coreVersion($status, $entries);
    if ($core === null) throw new Failure('no Drupal core version: pass --status-file with drush status --format=json', EXIT_INPUT);
    $php = $status['php-version'] ?? null;
    $drupalInfo = ['core_version' => $core, 'php_version' => is_string($php) && $php !== '' ? $php : PHP_VERSION];
    if ($settings['ip'] !== null) $drupalInfo['ip_address'] = $settings['ip'];
    return [
        // The site token goes in the body too: it must match the bearer, and servers
        // that only know the original spec require it there.
        'site' => ['url' => $settings['siteUrl'], 'name' => $settings['siteName'], 'token' => $settings['token']],
        'drupal_info' => $drupalInfo,
        'modules' => $entries,
        'full_sync' => !$settings['partial'],
    ];
}

function encode(array $payload): string
{
    return json_encode($payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);
}

final class Response
{
    /** @param array<string, string> $headers lower-case names */
    public function __construct(public readonly int $status, public readonly array $headers, public readonly string $body)
    {
    }

    public function json(): ?array
    {
        $data = json_decode($this->body, true);
        return is_array($data) ? $data : null;
    }
}

function request(string $method, string $url, array $settings, ?string $body = null): Response
{
    $headers = [
        'Authorization: Bearer ' . ($settings['apiToken'] ?? $settings['token']),
        'Accept: application/json, application/problem+json',
        'User-Agent: modsync-push/' . VERSION . ' PHP/' . PHP_VERSION,
    ];
    $curl = curl_init($url);
    if ($body !== null) {
        $headers[] = 'Content-Type: application/json';
        if (strlen($body) > GZIP_OVER_BYTES) {
            $body = gzencode($body, 6);
            $headers[] = 'Content-Encoding: gzip';
        }
        curl_setopt($curl, CURLOPT_POSTFIELDS, $body);
    }
    $received = [];
    curl_setopt_array($curl, [
        CURLOPT_CUSTOMREQUEST => $method,
        CURLOPT_HTTPHEADER => $headers,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => 15,
        CURLOPT_TIMEOUT => $settings['timeout'],
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_HEADERFUNCTION => function ($curl, string $line) use (&$received): int {
            $parts = explode(':', $line, 2);
            if (count($parts) === 2) $received[strtolower(trim($parts[0]))] = trim($parts[1]);
            return strlen($line);
        },
    ]);
    $answer = curl_exec($curl);
    if ($answer === false) {
        $error = curl_error($curl);
        throw new Failure("cannot reach modsync at $url: $error", EXIT_NETWORK);
    }
    return new Response((int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE), $received, (string) $answer);
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
function retryAfter(Response $response): ?int
{
    $value = $response->headers['retry-after'] ?? null;
    if ($value === null) return null;
    if (ctype_digit($value)) return (int) $value;
    $at = strtotime($value);
    return $at === false ? null : max(0, $at - time());
}

/** What modsync said was wrong: detail, then each field error. */
function problem(Response $response): string
{
    $data = $response->json();
    if ($data === null) return trim(substr($response->body, 0, 300)) ?: 'no body';
    $text = is_string($data['detail'] ?? null) ? $data['detail'] : ($data['title'] ?? 'no detail');
    foreach (array_slice(is_array($data['errors'] ?? null) ? $data['errors'] : [], 0, 10) as $error) {
        if (!is_array($error)) continue;
        $where = is_array($error['loc'] ?? null) ? implode('.', $error['loc']) : ($error['machine_name'] ?? '');
        $text .= "\n  $where: " . ($error['msg'] ?? $error['detail'] ?? json_encode($error));
    }
    return $text;
}

/** Turns an error answer into the exit code it stands for. */
function refusal(Response $response, string $what): Failure
{
    $status = $response->status;
    if ($status === 429) {
        $after = retryAfter($response) ?? 3600;
        $at = gmdate('Y-m-d H:i:s', time() + $after);
        return new Failure("rate limited: retry after $after seconds ($at UTC)\n  " . problem($response), EXIT_RATE_LIMITED);
    }
    if ($status >= 300 && $status < 400) {
        $to = $response->headers['location'] ?? 'elsewhere';
        return new Failure("$what: HTTP $status: modsync answers from $to; set MODSYNC_URL to that address (redirects are not followed: they would resend the token)", EXIT_REFUSED);
    }
    $code = match (true) {
        $status === 401, $status === 403 => EXIT_AUTH,
        $status >= 500 => EXIT_SERVER,
        default => EXIT_REFUSED,
    };
    return new Failure("$what: HTTP $status: " . problem($response), $code);
}

function summary(array $result): string
{
    $skipped = $result['errors_total'] ?? count($result['errors'] ?? []);
    return sprintf(
        '%s (%d processed: %d created, %d updated, %d unchanged, %d skipped)',
        $result['message'] ?? 'synced',
        $result['modules_processed'] ?? 0,
        $result['modules_created'] ?? 0,
        $result['modules_updated'] ?? 0,
        $result['modules_unchanged'] ?? 0,
        $skipped,
    );
}

function report(array $result, bool $json): void
{
    foreach (array_slice($result['errors'] ?? [], 0, 20) as $error) {
        fwrite(STDERR, 'modsync-push: skipped ' . ($error['machine_name'] ?? '#' . ($error['index'] ?? '?')) . ': ' . ($error['detail'] ?? '') . "\n");
    }
    fwrite(STDOUT, ($json ? json_encode($result, JSON_UNESCAPED_SLASHES) : 'modsync-push: ' . summary($result)) . "\n");
}

/** The task status URL: Location, else the body's status_url, else built from task_id. */
function statusUrl(Response $accepted, string $server): string
{
    $data = $accepted->json() ?? [];
    $target = $accepted->headers['location'] ?? $data['status_url'] ?? null;
    if (!is_string($target) || $target === '') {
        if (!is_string($data['task_id'] ?? null)) throw new Failure('HTTP 202 without a task to follow', EXIT_TASK_UNKNOWN);
        $target = '/api/v1/tasks/' . rawurlencode($data['task_id']) . '/status';
    }
    if (preg_match('#^https?://#i', $target) === 1) return $target;
    $origin = preg_replace('#^(https?://[^/]+).*$#i', '$1', $server);
    return $origin . '/' . ltrim($target, '/');
}

/**
 * Follows a background sync until it completes or fails: waits what
 * Retry-After says (else 1 s), doubling up to 30 s, for at most --wait seconds.
 */
function follow(Response $accepted, array $settings): array
{
    $url = statusUrl($accepted, $settings['server']);
    $deadline = microtime(true) + $settings['wait'];
    $delay = retryAfter($accepted) ?? 1;
    $task = ($accepted->json() ?? [])['task_id'] ?? $url;
    fwrite(STDERR, "modsync-push: accepted as background task $task; following $url\n");
    while (true) {
        $left = $deadline - microtime(true);
        if ($left <= 0) throw new Failure("task $task still running after {$settings['wait']} s (--wait); it continues on the server", EXIT_TASK_UNKNOWN);
        usleep((int) (min($delay, $left) * 1_000_000));
        $delay = min(30, $delay * 2);
        try {
            $response = request('GET', $url, $settings);
        } catch (Failure $e) {
            fwrite(STDERR, "modsync-push: {$e->getMessage()}; retrying\n");
            continue;
        }
        if ($response->status === 429 || $response->status >= 500) {
            $delay = max($delay, retryAfter($response) ?? 0);
            continue;
        }
        if ($response->status !== 200) {
            throw new Failure("task $task accepted, but its status is unreadable: HTTP {$response->status}: " . problem($response), EXIT_TASK_UNKNOWN);
        }
        $status = $response->json() ?? [];
        if (($status['status'] ?? null) === 'completed') return is_array($status['result'] ?? null) ? $status['result'] : [];
        if (($status['status'] ?? null) === 'failed') {
            throw new Failure("background sync failed: " . ($status['error'] ?? $status['message'] ?? json_encode($status)), EXIT_TASK_FAILED);
        }
        $retry = retryAfter($response);
        if ($retry !== null) $delay = max(1, $retry);
    }
}

function settings(array $options, array $status): array
{
    $missing = [];
    $server = setting($options, 'server', 'MODSYNC_URL');
    $siteId = setting($options, 'site-id', 'MODSYNC_SITE_ID');
    $drushUri = is_string($status['uri'] ?? null) && !preg_match('#^https?://default/?$#', $status['uri']) ? $status['uri'] : null;
    $siteUrl = setting($options, 'site-url', 'MODSYNC_SITE_URL') ?? $drushUri;
    $siteName = setting($options, 'site-name', 'MODSYNC_SITE_NAME');
    $token = getenv('MODSYNC_SITE_TOKEN');
    $token = is_string($token) ? trim($token) : '';
    $dryRun = isset($options['dry-run']);
    if ($server === null && !$dryRun) $missing[] = 'MODSYNC_URL (--server)';
    if ($siteId === null && !$dryRun) $missing[] = 'MODSYNC_SITE_ID (--site-id)';
    if ($siteUrl === null) $missing[] = 'MODSYNC_SITE_URL (--site-url)';
    if ($siteName === null) $missing[] = 'MODSYNC_SITE_NAME (--site-name)';
    if ($token === '' && !$dryRun) $missing[] = 'MODSYNC_SITE_TOKEN';
    if ($missing !== []) throw new Failure('missing settings: ' . implode(', ', $missing), EXIT_USAGE);
    if ($server !== null && preg_match('#^https?://[^/\s]+#i', $server) !== 1) throw new Failure('MODSYNC_URL must be an http(s) URL', EXIT_USAGE);
    if ($siteId !== null && (!ctype_digit($siteId) || (int) $siteId < 1)) throw new Failure('MODSYNC_SITE_ID must be a positive integer', EXIT_USAGE);
    if ($server !== null && str_starts_with(strtolower($server), 'http://') && preg_match('#^http://(localhost|127\.|\[::1\])#i', $server) !== 1) {
        fwrite(STDERR, "modsync-push: warning: MODSYNC_URL is plain http; the site token travels unencrypted\n");
    }
    return [
        'server' => rtrim((string) $server, '/'),
        'siteId' => (int) $siteId,
        'siteUrl' => $siteUrl,
        'siteName' => $siteName,
        'ip' => setting($options, 'ip-address', 'MODSYNC_IP_ADDRESS'),
        'token' => $token,
        'apiToken' => is_string(getenv('MODSYNC_API_TOKEN')) && trim(getenv('MODSYNC_API_TOKEN')) !== '' ? trim(getenv('MODSYNC_API_TOKEN')) : null,
        'partial' => isset($options['partial']),
        'wait' => seconds($options, 'wait', 900),
        'timeout' => seconds($options, 'timeout', 300),
    ];
}

function main(array $argv): int
{
    ['options' => $options, 'args' => $args] = parseArgs($argv);
    if (isset($options['help'])) {
        fwrite(STDOUT, usage() . "\n");
        return EXIT_OK;
    }
    if (isset($options['version'])) {
        fwrite(STDOUT, 'modsync-push ' . VERSION . "\n");
        return EXIT_OK;
    }
    $input = $args[0] ?? '-';
    if ($input === '-' && stream_isatty(STDIN)) throw new Failure("no input: pipe drush pm:list --format=json into it, or name a file (see --help)", EXIT_USAGE);
    $status = isset($options['status-file']) ? readJsonDocument((string) $options['status-file'], 'drush status output') : [];
    $settings = settings($options, $status);
    $entries = moduleEntries(readJsonDocument($input, 'drush pm:list output'));
    if ($entries === []) throw new Failure('pm:list output holds no module, theme or profile: nothing to send (a full sync of nothing would remove every module)', EXIT_INPUT);
    $payload = buildPayload($settings, $entries, $status);
    if (isset($options['dry-run'])) {
        // The payload as it would be sent, but never the token: dry runs end up in logs and tickets.
        $payload['site']['token'] = '<MODSYNC_SITE_TOKEN>';
        fwrite(STDOUT, encode($payload) . "\n");
        return EXIT_OK;
    }
    $body = encode($payload);
    if (!extension_loaded('curl')) throw new Failure('the PHP curl extension is missing (Debian: apt-get install php-curl)', EXIT_USAGE);
    if (strlen($body) > GZIP_OVER_BYTES && !function_exists('gzencode')) throw new Failure('the PHP zlib extension is missing', EXIT_USAGE);

    $response = request('POST', "{$settings['server']}/api/v1/sites/{$settings['siteId']}/modules", $settings, $body);
    $result = match ($response->status) {
        200 => $response->json() ?? [],
        202 => follow($response, $settings),
        default => throw refusal($response, 'sync refused'),
    };
    report($result, isset($options['json']));
    return EXIT_OK;
}

try {
    exit(main($argv));
} catch (Failure $e) {
    fwrite(STDERR, 'modsync-push: ' . $e->getMessage() . "\n");
    exit($e->exitCode);
} catch (Throwable $e) {
    fwrite(STDERR, 'modsync-push: internal error: ' . $e->getMessage() . "\n");
    exit(EXIT_INTERNAL);
}
