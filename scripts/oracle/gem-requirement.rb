# Oracle helper for scripts/range-oracle.py (RubyGems): reads JSON lines
# {"patched": [...], "unaffected": [...], "version": "..."} on stdin and prints, per line,
# "1" when the version satisfies none of the patched and none of the unaffected requirements
# (RubySec's / bundler-audit's rule), "0" otherwise, or "E<TAB>message" when Gem::Version or
# Gem::Requirement rejects the version or a requirement. Each requirement string is one
# Gem::Requirement whose comma-separated parts are ANDed:
#   Gem::Requirement.new(*s.split(",").map(&:strip))
# Every requirement is parsed before any is tested, so an invalid one is always reported.
require 'rubygems'
require 'json'
STDOUT.sync = false

def one_line(s)
  s.to_s.gsub(/\s+/, ' ').strip
end

STDIN.each_line do |line|
  c = JSON.parse(line)
  begin
    begin
      version = Gem::Version.new(c['version'])
    rescue ArgumentError => e
      raise ArgumentError, "invalid version #{c['version'].inspect}: #{one_line(e.message)}"
    end
    reqs = (c['patched'] + c['unaffected']).map do |s|
      Gem::Requirement.new(*s.split(',').map(&:strip))
    rescue ArgumentError => e # Gem::Requirement::BadRequirementError is one
      raise ArgumentError, "invalid requirement #{s.inspect}: #{one_line(e.message)}"
    end
    puts(reqs.any? { |r| r.satisfied_by?(version) } ? '0' : '1')
  rescue ArgumentError => e
    puts "E\t#{one_line(e.message)}"
  end
end
