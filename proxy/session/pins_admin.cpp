#include "proxy/session/pins_admin.hpp"

#include "proxy/observe/log_record.hpp"
#include "proxy/session/intercept_policy.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace tlsprobe::proxy {

namespace json = boost::json;

AdminRoute pins_admin_route(InterceptPolicy& policy) {
  return [&policy](std::string_view method, std::string_view) {
    AdminReply reply;
    reply.content_type = "application/json";
    if (method == "GET" || method == "HEAD") {
      json::array list;
      for (const auto& p : policy.pins())
        list.push_back(json::object{
            {"client", sanitize_utf8(p.client)},
            {"host", sanitize_utf8(p.host)},
            {"since",
             format_timestamp_s(std::chrono::time_point_cast<std::chrono::seconds>(p.since))},
            {"expires_in_seconds", p.expires_in.count()}});
      json::object body{{"ttl_seconds", policy.pin_ttl().count()},
                        {"count", list.size()},
                        {"pins", std::move(list)}};
      reply.body = json::serialize(body) + "\n";
      return reply;
    }
    if (method == "DELETE") {
      const std::size_t cleared = policy.clear_pins();
      reply.body = json::serialize(json::object{{"cleared", cleared}}) + "\n";
      return reply;
    }
    reply.status = 405;
    reply.content_type = "text/plain; charset=utf-8";
    reply.allow = "GET, HEAD, DELETE";
    reply.body = "method not allowed: GET lists the pins, DELETE clears them\n";
    return reply;
  };
}

}  // namespace tlsprobe::proxy
