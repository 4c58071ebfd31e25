<?php
// Oracle helper for scripts/range-oracle.py (Packagist): reads JSON lines
// {"branches": [["c1", "c2", ...], ...], "version": "..."} on stdin and prints, per line,
// "1" when for some branch Composer\Semver\Semver::satisfies($version, $c) holds for every
// constraint $c of it (FriendsOfPHP's / Composer's audit rule), "0" otherwise, or
// "E<TAB>message" when VersionParser rejects the version or a constraint (satisfies throws
// UnexpectedValueException). Every constraint is evaluated, so an invalid one is always
// reported. Uses Debian's php-composer-semver.
require '/usr/share/php/Composer/Semver/autoload.php';

use Composer\Semver\Semver;
use Composer\Semver\VersionParser;

$parser = new VersionParser();
$oneLine = function (string $s): string {
    return trim(preg_replace('/\s+/', ' ', $s));
};
$out = '';
while (($line = fgets(STDIN)) !== false) {
    $c = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
    $version = $c['version'];
    try {
        $parser->normalize($version);
    } catch (\UnexpectedValueException $e) {
        $out .= "E\tinvalid version " . json_encode($version) . ': ' . $oneLine($e->getMessage()) . "\n";
        continue;
    }
    $affected = false;
    $error = null;
    foreach ($c['branches'] as $branch) {
        $all = true;
        foreach ($branch as $constraint) {
            try {
                $all = Semver::satisfies($version, $constraint) && $all;
            } catch (\UnexpectedValueException $e) {
                $error = 'invalid constraint ' . json_encode($constraint) . ': ' . $oneLine($e->getMessage());
                break 2;
            }
        }
        $affected = $affected || $all;
    }
    $out .= $error !== null ? "E\t$error\n" : ($affected ? "1\n" : "0\n");
}
echo $out;
